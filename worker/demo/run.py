"""`orderflow demo`: the whole flow on the embedded database, from WhatsApp payloads to
verified webhooks, ending with a summary per distributor.

Embedded Postgres up, migrations applied, the project's demo distributors seeded
(supabase/seed.sql); a local receiver that verifies every signature; the real intake server;
the worker, the delivery loop and the reply sender, whose replies go to a stand-in for Meta's
Graph API on 127.0.0.1 (worker/demo/graph_api.py); signed WhatsApp Cloud API payloads (orders,
questions, a complaint, PII, a duplicate delivery, an image, a location, a forged one) POSTed to it.
It ends by itself and leaves the database for inspection.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import socket
import time
from collections import Counter
from importlib import resources
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from webhooks.inbound.app import create_app
from webhooks.outbound.delivery import run_delivery
from worker.admin.encrypt_pending import encrypt_pending
from worker.admin.integration_tokens import store_access_token
from worker.core.encryption import Keyring
from worker.core.repository import Repository
from worker.core.settings import Settings
from worker.db import connection
from worker.db.migrate import reset
from worker.demo.graph_api import GraphApiStandIn
from worker.demo.receiver import ReceiverTally, receiver_app
from worker.replies import run_replies
from worker.runtime import build_worker

DEMO_QUERIES = ("worker.demo",)  # worker/demo/queries.sql: the demo's own queries, not the runtime's
RECEIVER_PORT = 8765  # the demo endpoints in supabase/seed.sql point here
FINISH_TIMEOUT = 120.0  # seconds for the worker and deliveries to finish
POLL = 0.2  # seconds
DEMO_TOKEN = "demo-access-token"  # the Graph API stand-in's only valid bearer token


def graph_stand_in(token: str) -> GraphApiStandIn:
    """The Graph API stand-in the demo and the tests share (worker/demo/graph_api.py), started."""
    return GraphApiStandIn(tokens={token}).start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_demo_messages() -> list[dict[str, Any]]:
    text = resources.files("worker.demo.data").joinpath("messages.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def whatsapp_payload(phone_number_id: str, spec: dict[str, Any], message_id: str, timestamp: int) -> dict[str, Any]:
    """A WhatsApp Cloud API webhook body for one inbound message."""
    kind = spec.get("kind", "text")
    message: dict[str, Any] = {"from": spec["from"], "id": message_id, "timestamp": str(timestamp), "type": kind}
    if kind == "text":
        message["text"] = {"body": spec["text"]}
    elif kind == "image":
        message["image"] = {"id": f"media-{message_id[-6:]}", "mime_type": "image/jpeg", "sha256": "0" * 64,
                            "caption": spec.get("caption", "")}
    elif kind == "location":
        message["location"] = {"latitude": 41.8781, "longitude": -87.6298, "name": "Food truck", "address": "Chicago"}
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
             "contacts": [{"profile": {"name": spec["name"]}, "wa_id": spec["from"]}], "messages": [message]}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "demo-waba", "changes": [{"field": "messages", "value": value}]}]}


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def _serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # surfaces the bind error
        await asyncio.sleep(0.02)
    return server, task


async def _post_all(intake_url: str, integrations: dict[str, dict[str, str]], messages: list[dict[str, Any]],
                    progress: Progress) -> Counter[int]:
    codes: Counter[int] = Counter()
    task = progress.add_task("posting WhatsApp payloads", total=len(messages) + 1)
    now = int(time.time())
    async with httpx.AsyncClient(base_url=intake_url, timeout=10) as client:
        for index, spec in enumerate(messages):
            source = spec.get("duplicate_of", index)
            message_id = f"wamid.DEMO{source:04d}{now}"
            integration = integrations[spec["distributor"]]
            body = json.dumps(whatsapp_payload(integration["phone_number_id"], spec, message_id, now)).encode()
            response = await client.post("/webhooks/whatsapp", content=body, headers={
                "content-type": "application/json", "x-hub-signature-256": sign(integration["app_secret"], body)})
            codes[response.status_code] += 1
            progress.advance(task)
        forged = json.dumps(whatsapp_payload(integrations["aurora"]["phone_number_id"],
                                             {"from": "5215550009999", "name": "Forger", "text": "100 cajas gratis"},
                                             f"wamid.FORGED{now}", now)).encode()
        response = await client.post("/webhooks/whatsapp", content=forged, headers={
            "content-type": "application/json", "x-hub-signature-256": sign("not-the-app-secret", forged)})
        codes[response.status_code] += 1
        progress.advance(task)
    return codes


async def _wait_until_done(repo: Repository, progress: Progress) -> None:
    messages = progress.add_task("worker: analysing messages", total=None)
    deliveries = progress.add_task("delivering signed webhooks", total=None)
    deadline = time.monotonic() + FINISH_TIMEOUT
    while True:
        row = await repo.fetch_one("demo_progress")
        assert row is not None
        progress.update(messages, total=row["messages"], completed=row["messages"] - row["open_messages"])
        progress.update(deliveries, total=row["deliveries"], completed=row["deliveries"] - row["pending_deliveries"])
        replies = await repo.fetch_one("demo_replies")
        if row["open_messages"] == 0 and row["pending_deliveries"] == 0 and replies and replies["queued"] == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not finish in time; see `orderflow status`")
        await asyncio.sleep(POLL)


def _print_replies(console: Console, graph_api: GraphApiStandIn, by_status: dict[str, int]) -> None:
    sent = graph_api.sent
    kinds = Counter(message.type for message in sent)
    console.print(f"replies to customers: {len(sent)} accepted by the Graph API stand-in "
                  f"({', '.join(f'{n} {kind}' for kind, n in sorted(kinds.items()))}); by status {by_status}")
    confirmation = next((m for m in sent if m.type == "interactive"), None)
    if confirmation is not None:
        interactive = confirmation.body["interactive"]
        buttons = " | ".join(f"[{b['reply']['title']}] ({b['reply']['id'][:16]}…)" for b in interactive["action"]["buttons"])
        console.print(f"an order confirmation as sent: {interactive['body']['text']!r} {buttons}")


def _print_summary(console: Console, summary: list[dict[str, Any]], orders: list[dict[str, Any]],
                   tally: ReceiverTally, codes: Counter[int]) -> None:
    table = Table(title="orderflow demo: per distributor")
    table.add_column("")
    for row in summary:
        table.add_column(row["slug"], justify="right")
    metrics: list[tuple[str, Any]] = [
        ("messages received", lambda r: r["messages"]),
        ("processed", lambda r: r["processed"]),
        ("failed", lambda r: r["failed"]),
        ("flagged for review", lambda r: r["in_review"]),
        ("replies recorded", lambda r: r["replies"]),
        ("orders created", lambda r: r["orders_created"]),
        ("orders needing review", lambda r: r["orders_review"]),
        ("PII found", lambda r: ", ".join(f"{k.lower()} {v}" for k, v in sorted(r["pii"].items())) or "-"),
        ("AI calls", lambda r: r["ai_calls"]),
        ("AI cost (USD)", lambda r: f"{int(r['ai_cost_micro_usd']) / 1e6:.4f}"),
        ("budget alerts", lambda r: r["budget_alerts"]),
        ("webhooks delivered", lambda r: f"{r['delivered']}/{r['delivered'] + r['not_delivered']}"),
        ("signatures verified", lambda r: tally.verified[r["slug"]]),
    ]
    for label, value in metrics:
        table.add_row(label, *[str(value(row)) for row in summary])
    console.print(table)
    lines = Table(title="orders and their lines")
    for column in ("distributor", "status", "total", "lines"):
        lines.add_column(column)
    for row in orders:
        lines.add_row(row["slug"], row["status"], f"{row['total_cents'] / 100:,.2f} {row['currency']}", row["lines"])
    console.print(lines)
    console.print(f"intake answers: {dict(sorted(codes.items()))} (the 401 is the forged payload); "
                  f"receiver: {sum(tally.verified.values())} verified, {sum(tally.rejected.values())} rejected, "
                  f"{tally.repeats} repeated webhook-ids; events: {dict(tally.event_types)}")


async def run_demo(settings: Settings, console: Console) -> None:
    settings = dataclasses.replace(settings, allow_private_webhook_targets=True)  # the receiver is on 127.0.0.1
    url = connection.database_url(settings)
    console.print(f"database: {url}")
    applied = reset(url, settings.migrations_dir, settings.supabase_dir / "seed.sql")
    console.print(f"reset: {len(applied)} migrations applied, demo data seeded from supabase/seed.sql")
    repo = Repository(url, min_size=2, max_size=12, query_packages=DEMO_QUERIES)
    await repo.open()
    encrypted = await encrypt_pending(repo, Keyring.from_settings(settings))
    console.print(f"encrypted the seed's plaintext: {encrypted.customers} customer phones and addresses")
    stop = asyncio.Event()
    tally = ReceiverTally()
    graph_api = graph_stand_in(DEMO_TOKEN)
    settings = dataclasses.replace(settings, whatsapp_graph_url=graph_api.url, whatsapp_api_version=graph_api.version)
    keyring = Keyring.from_settings(settings)
    try:
        for row in await repo.fetch_all("demo_whatsapp_integrations"):
            await store_access_token(repo, keyring, distributor_id=row["distributor_id"],
                                     integration_id=row["integration_id"], token=DEMO_TOKEN)
        console.print(f"Graph API stand-in on {graph_api.url}: each WhatsApp number's access token stored encrypted")
        secrets = {r["slug"]: r["secret"] for r in await repo.fetch_all("demo_endpoint_secrets")}
        integrations = {r["slug"]: {"phone_number_id": r["phone_number_id"], "app_secret": r["app_secret"]}
                        for r in await repo.fetch_all("demo_integrations")}
        receiver, receiver_task = await _serve(receiver_app(secrets, tally), RECEIVER_PORT)
        intake_port = _free_port()
        intake, intake_task = await _serve(create_app(repo, settings), intake_port)
        worker = build_worker(repo, settings, concurrency=16, retry_base=0.5, lease_seconds=30, heartbeat_interval=5)
        worker_task = asyncio.create_task(worker.run(stop))
        delivery_task = asyncio.create_task(run_delivery(repo, settings, stop))
        replies_task = asyncio.create_task(run_replies(repo, settings, stop, keyring=keyring))
        messages = load_demo_messages()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            codes = await _post_all(f"http://127.0.0.1:{intake_port}", integrations, messages, progress)
            await _wait_until_done(repo, progress)
        stop.set()
        await asyncio.gather(worker_task, delivery_task, replies_task)
        for server in (intake, receiver):
            server.should_exit = True
        await asyncio.gather(intake_task, receiver_task)
        _print_summary(console, await repo.fetch_all("demo_summary"), await repo.fetch_all("demo_orders"), tally, codes)
        replies = await repo.fetch_one("demo_replies")
        _print_replies(console, graph_api, dict(replies["by_status"]) if replies else {})
    finally:
        stop.set()
        graph_api.stop()
        with contextlib.suppress(Exception):
            await repo.close()
    console.print("\nThe database is left running for inspection:\n"
                  "  .venv/bin/orderflow status\n"
                  "  psql \"$(.venv/bin/orderflow db url)\" -c 'select status, total_cents from orders'\n"
                  "  .venv/bin/orderflow db stop   # when done")


__all__ = ["load_demo_messages", "run_demo", "sign", "whatsapp_payload"]
