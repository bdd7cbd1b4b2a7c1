"""The README's operator quickstart, run as it is written, on an empty database.

The `<!-- quickstart -->` block of README.md is read line by line: heredocs and `printf` write
their files, variables are set and expanded like a shell would, and every `orderflow …` line runs
through the real CLI (Typer's runner, in this process). Only three things stand in: Meta's Graph
API is a local HTTP server on 127.0.0.1 (the real httpx client asks it), `orderflow serve &` is
the same intake app served in process, and the `curl` line is done by httpx with the same body and
the same X-Hub-Signature-256 the openssl pipeline computes. The distributor's ERP is a local
receiver that verifies the Standard Webhooks signatures with the secret `endpoints add` printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import shlex
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from tests.conftest import with_database
from webhooks.inbound.app import create_app
from worker.cli import app
from worker.core.repository import Repository
from worker.core.settings import REPO_ROOT, load_settings
from worker.demo.recorder import RecordedRequest, Reply, WebhookReceiver

README = REPO_ROOT / "README.md"
PHONE_NUMBER_ID = "109876543210"
ACCESS_TOKEN = "EAAG-quickstart-" + uuid.uuid4().hex
_HEREDOC = re.compile(r"^cat > (\S+) <<'EOF'$")
_PRINTF = re.compile(r"""^printf '%s\\n' "(\$\w+)" > (\S+)$""")
_ASSIGN = re.compile(r"^([A-Z_]+)='(.*)'$")


def quickstart_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- quickstart -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def shell_value(quoted: str, env: dict[str, str]) -> str:
    """A single-quoted shell word with '"$VAR"' splices, as the shell reads it."""
    return "".join(env[part[3:-2]] if part.startswith("'\"$") else part
                   for part in re.split(r"('\"\$\w+\"')", quoted))


def graph_stand_in(request: RecordedRequest) -> Reply:
    """GET /v21.0/<phone_number_id> answers 200 for the right bearer, like the Graph API."""
    if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
        return Reply(status=401, body=json.dumps({"error": {"message": "Invalid OAuth access token"}}).encode())
    if request.method != "GET" or request.path != f"/v21.0/{PHONE_NUMBER_ID}":
        return Reply(status=404, body=b'{"error": {"message": "Unknown path"}}')
    return Reply(status=200, headers={"content-type": "application/json"},
                 body=json.dumps({"id": PHONE_NUMBER_ID, "display_phone_number": "+52 55 5000 0000"}).encode())


@pytest.fixture
def empty_db_url(admin_url: str) -> Iterator[str]:
    """A database with nothing in it: the quickstart's `orderflow db migrate` builds everything."""
    name = f"orderflow_q_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield with_database(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def post_signed(url: str, body: str, app_secret: str) -> dict[str, Any]:
    """What the `curl` line does, against the intake app (`orderflow serve`) in process."""
    signature = hmac.new(app_secret.encode(), body.encode(), hashlib.sha256).hexdigest()

    async def go() -> dict[str, Any]:
        repo = Repository(url, min_size=1, max_size=2)
        await repo.open()
        try:
            transport = httpx.ASGITransport(app=create_app(repo, load_settings()))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
                response = await http.post("/webhooks/whatsapp", content=body.encode(), headers={
                    "content-type": "application/json", "x-hub-signature-256": f"sha256={signature}"})
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer
        finally:
            await repo.close()

    return asyncio.run(go())


def test_the_readme_quickstart_takes_a_first_signed_whatsapp_order(
        empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    outputs: dict[str, str] = {}
    with WebhookReceiver(handler=graph_stand_in) as graph, WebhookReceiver() as erp:
        env = {"DATABASE_URL": empty_db_url, "WHATSAPP_GRAPH_URL": graph.url.rstrip("/"),
               "ORDERFLOW_ALLOW_PRIVATE_WEBHOOKS": "1", "OPENAI_API_KEY": "",
               "META_APP_SECRET": uuid.uuid4().hex, "META_ACCESS_TOKEN": ACCESS_TOKEN,
               "PHONE_NUMBER_ID": PHONE_NUMBER_ID, "VERIFY_TOKEN": uuid.uuid4().hex,
               "ERP_WEBHOOK_URL": erp.url + "orders"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        lines = iter(quickstart_lines())
        ran: list[str] = []
        for line in lines:
            if (heredoc := _HEREDOC.match(line)) is not None:
                content = []
                for body_line in lines:
                    if body_line == "EOF":
                        break
                    content.append(body_line + "\n")
                Path(heredoc.group(1)).write_text("".join(content), encoding="utf-8")
            elif (printf := _PRINTF.match(line)) is not None:
                Path(printf.group(2)).write_text(os.path.expandvars(printf.group(1)) + "\n", encoding="utf-8")
            elif (assign := _ASSIGN.match(line)) is not None:
                env[assign.group(1)] = shell_value(assign.group(2), env)
            elif line.startswith("curl "):
                assert "/webhooks/whatsapp" in line and "$META_APP_SECRET" in line and '-d "$BODY"' in line
                outputs["curl"] = json.dumps(post_signed(empty_db_url, env["BODY"], env["META_APP_SECRET"]))
            elif line.startswith("orderflow serve") or line == "umask 077":
                continue  # the intake runs in process (post_signed); files here live in tmp_path
            elif line.startswith("orderflow "):
                args = [os.path.expandvars(a) for a in shlex.split(line)[1:]]
                result = runner.invoke(app, args, catch_exceptions=False)
                assert result.exit_code == 0, f"{line}\n{result.output}"
                outputs[" ".join(args[:2])] = result.output
                ran.append(args[0] + " " + args[1] if len(args) > 1 else args[0])
                if args[:2] == ["endpoints", "add"]:
                    erp.secrets = [re.findall(r"whsec_\S+", result.output)[-1]]
            else:
                raise AssertionError(f"the quickstart has a line this test does not know how to follow: {line}")

        assert graph.requests and graph.requests[0].path == f"/v21.0/{PHONE_NUMBER_ID}"
        delivered = erp.wait_for_sync(1)

    assert {"distributors create", "catalog import", "orders import", "integrations add", "endpoints add",
            "budgets set", "worker --until-idle", "deliver --until-idle", "orders list", "messages list"} <= set(ran)
    assert json.loads(outputs["curl"])["stored"] == 1
    orders = json.loads(outputs["orders list"])
    first = orders[0]
    assert (first["status"], first["external_id"], first["currency"]) == ("created", None, "MXN")
    assert [(line["sku"], line["quantity"]) for line in first["lines"]] == [("COCA-600-24", 3.0), ("SPR-600-24", 2.0)]
    assert first["total_cents"] == 3 * 28000 + 2 * 25000
    history = orders[1]
    assert (history["external_id"], history["status"]) == ("ERP-1001", "fulfilled")
    assert first["customer"]["id"] == history["customer"]["id"]  # the history's customer, found by phone hash
    assert all(r.verified for r in delivered) and json.loads(delivered[0].body)["type"] == "order.created"
    assert "wamid" not in outputs["messages list"] and "coca 600" in outputs["messages list"]
    assert ACCESS_TOKEN not in "".join(outputs.values())
