"""`orderflow endpoints add|list|rotate-secret|disable|test`: where a distributor's events go."""

from __future__ import annotations

from typing import Annotated

import typer

from worker.admin import endpoints
from worker.cli.errors import JSON, console, emit, run
from worker.core.repository import Repository
from worker.core.settings import load_settings

endpoints_app = typer.Typer(help="Outbound webhook endpoints: add, list, rotate the secret, disable, test.",
                            no_args_is_help=True)


@endpoints_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="https URL that receives the signed events")],
    distributor: Annotated[str, typer.Option("--distributor", help="Slug")],
    events: Annotated[str | None, typer.Option("--events", help="Comma-separated event types (default: all)")] = None,
    description: Annotated[str | None, typer.Option("--description", help="What it is")] = None,
) -> None:
    """Add an endpoint; prints its whsec_ signing secret once."""

    async def work(repo: Repository) -> tuple[str, str]:
        return await endpoints.add(repo, distributor_slug=distributor, url=url, events=endpoints.parse_events(events),
                                   description=description)

    endpoint_id, secret = run(work)
    console.print(f"endpoint {endpoint_id} added for {distributor}: {url} ({events or 'all events'})")
    console.print("signing secret (shown once, store it now):")
    print(secret)


@endpoints_app.command("list")
def list_(
    distributor: Annotated[str | None, typer.Option("--distributor", help="Only this slug")] = None,
    as_json: JSON = False,
) -> None:
    """Endpoints with their health and pending deliveries (never their secrets)."""
    rows = run(lambda repo: endpoints.listing(repo, distributor))
    emit([dict(r) for r in rows], ("id", "slug", "url", "event_types", "enabled", "failing_since", "last_success_at",
                                   "pending"), as_json=as_json, title="webhook endpoints")


@endpoints_app.command("rotate-secret")
def rotate_secret(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint id")],
    grace_hours: Annotated[float, typer.Option("--grace-hours", min=0, help="Hours the old secret still signs")]
    = endpoints.ROTATION_GRACE / 3600,
) -> None:
    """A new signing secret (printed once); the old one keeps signing for the grace period."""
    secret, until = run(lambda repo: endpoints.rotate_secret(repo, endpoint_id, grace_seconds=grace_hours * 3600))
    console.print(f"rotated; the previous secret also signs until {until.isoformat()}")
    console.print("new signing secret (shown once, store it now):")
    print(secret)


@endpoints_app.command("disable")
def disable(endpoint_id: Annotated[str, typer.Argument(help="The endpoint id")]) -> None:
    """Disable an endpoint (its pending deliveries fail; replay them once it is back)."""
    row = run(lambda repo: endpoints.disable(repo, endpoint_id))
    console.print(f"disabled {row['url']} ({row['id']})")


@endpoints_app.command("test")
def test(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint id")],
    as_json: JSON = False,
) -> None:
    """Send a signed `ping` event now and show the answer."""
    settings = load_settings()
    done = run(lambda repo: endpoints.ping(repo, endpoint_id, settings))
    result = {"endpoint_id": done.endpoint_id, "url": done.url, "event_id": done.event_id,
              "ok": done.result.outcome == "succeeded", "status_code": done.result.status_code,
              "error": done.result.error, "response": done.result.snippet}
    if as_json:
        emit(result, (), as_json=True)
    else:
        colour = "green" if result["ok"] else "red"
        console.print(f"[{colour}]{done.url} answered {done.result.status_code or '-'}"
                      f"{' ' + done.result.error if done.result.error else ''}[/{colour}]", highlight=False)
        if done.result.snippet:
            console.print(done.result.snippet, highlight=False, markup=False)
    if not result["ok"]:
        raise typer.Exit(1)


__all__ = ["endpoints_app"]
