"""The demo's local webhook receiver: one path per distributor, every signature verified with
the PyPI `standardwebhooks` library (an independent implementation of the spec)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(kw_only=True)
class ReceiverTally:
    verified: Counter[str] = field(default_factory=Counter)  # slug -> deliveries whose signature verified
    rejected: Counter[str] = field(default_factory=Counter)  # slug -> deliveries whose signature did not
    event_types: Counter[str] = field(default_factory=Counter)
    webhook_ids: set[str] = field(default_factory=set)
    repeats: int = 0  # the same webhook-id received twice (would be a duplicate delivery)


def receiver_app(secrets: dict[str, str], tally: ReceiverTally) -> Starlette:
    verifiers = {slug: Webhook(secret) for slug, secret in secrets.items()}

    async def receive(request: Request) -> Response:
        slug = request.path_params["slug"]
        verifier = verifiers.get(slug)
        body = await request.body()
        if verifier is None:
            return Response(status_code=404)
        try:
            event = verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            tally.rejected[slug] += 1
            return Response(status_code=401)
        tally.verified[slug] += 1
        tally.event_types[str(event.get("type"))] += 1
        webhook_id = request.headers["webhook-id"]
        if webhook_id + slug in tally.webhook_ids:
            tally.repeats += 1
        tally.webhook_ids.add(webhook_id + slug)
        return Response(status_code=204)

    return Starlette(routes=[Route("/hooks/{slug}", receive, methods=["POST"])])


__all__ = ["ReceiverTally", "receiver_app"]
