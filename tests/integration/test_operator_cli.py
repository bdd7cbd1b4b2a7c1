"""The operator's commands one by one, through the real CLI on a fresh database: what they write,
what they refuse, what they print (secrets at most once) and their JSON shapes."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner, Result

from tests.support.tenants import create_user, impersonate
from worker.admin.integrations import open_access_token
from worker.cli import app
from worker.core.repository import Repository
from worker.demo.recorder import RecordedRequest, Reply, WebhookReceiver

PHONE_NUMBER_ID = "5550001112223"
TOKEN = "EAAG-" + uuid.uuid4().hex
CSV_HEADER = "sku,name,aliases,unit,pack_size,price_cents,category\n"


@pytest.fixture
def cli(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("ORDERFLOW_ALLOW_PRIVATE_WEBHOOKS", "1")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    run("distributors", "create", "lago", "--name", "Lago", "--country", "MX", "--currency", "MXN",
        "--timezone", "America/Mexico_City", "--language", "es")
    yield run


def sql(url: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def test_distributors_create_validates_and_lists_as_json(cli: Any) -> None:
    refused = cli("distributors", "create", "x1", "--name", "X", "--timezone", "Mars/Olympus", code=1)
    listed = json.loads(cli("distributors", "list", "--json").stdout)

    assert "time zone 'Mars/Olympus'" in refused.output
    assert [(d["slug"], d["locale"], d["currency"]) for d in listed] == [("lago", "es-MX", "MXN")]
    cli("distributors", "show", "nope", code=3)


def test_a_csv_catalog_with_bad_rows_is_refused_whole_with_line_numbers(cli: Any, fresh_db_url: str) -> None:
    path = write("bad.csv", CSV_HEADER + "A-1,Agua,agua,caja,12,9000,agua\n"
                 "A-2,Agua 2,,caja,doce,100,agua\nA-3,Agua 3,,caja,1,-5,agua\nA-1,Otra,,caja,1,1,agua\n")

    refused = cli("catalog", "import", path, "--distributor", "lago", code=1)

    assert "line 3: pack_size must be a whole number" in refused.output
    assert "line 4: price_cents must be at least 0" in refused.output
    assert "line 5: duplicate sku 'A-1' (first on line 2)" in refused.output
    assert sql(fresh_db_url, "select count(*) from products") == [(0,)]


def test_an_unknown_column_refuses_the_file(cli: Any) -> None:
    path = write("extra.csv", CSV_HEADER.strip() + ",color\nA-1,Agua,,caja,1,1,agua,blue\n")
    assert "unknown column 'color'" in cli("catalog", "import", path, "--distributor", "lago", code=1).output


def test_import_upserts_by_sku_and_prune_deactivates_without_deleting(cli: Any, fresh_db_url: str) -> None:
    first = write("one.csv", CSV_HEADER + "A-1,Agua,agua|ciel,caja,12,9000,agua\nB-1,Bolsa hielo,hielo,bolsa,1,3000,\n")
    second = write("two.csv", CSV_HEADER + "A-1,Agua Ciel,agua,caja,12,9500,agua\n")
    cli("catalog", "import", first, "--distributor", "lago")

    kept = json.loads(cli("catalog", "import", second, "--distributor", "lago", "--json").stdout)
    pruned = json.loads(cli("catalog", "import", second, "--distributor", "lago", "--prune", "--json").stdout)

    assert (kept["inserted"], kept["updated"], kept["deactivated"]) == (0, 1, 0)
    assert (pruned["updated"], pruned["unchanged"], pruned["deactivated"]) == (0, 1, 1)
    assert sql(fresh_db_url, "select sku, name, price_cents, aliases, active from products order by sku") == [
        ("A-1", "Agua Ciel", 9500, ["agua"], True), ("B-1", "Bolsa hielo", 3000, ["hielo"], False)]


def test_a_json_catalog_creates_its_distributor(cli: Any, fresh_db_url: str) -> None:
    catalog = {"distributor": {"slug": "sol", "name": "Sol", "country": "BR", "locale": "pt-BR", "currency": "BRL",
                               "timezone": "America/Sao_Paulo"},
               "products": [{"sku": "SK-1", "name": "Skol lata", "aliases": ["skol"], "unit": "pack", "pack_size": 12,
                             "price_cents": 4500, "category": "cerveja"}]}
    result = json.loads(cli("catalog", "import", write("sol.json", json.dumps(catalog, indent=1)), "--json").stdout)
    catalog["products"].append({"sku": "SK-2", "name": "x", "unit": "pack", "price_cents": "muito"})  # type: ignore[attr-defined]
    text = json.dumps(catalog, indent=1)
    refused = cli("catalog", "import", write("bad.json", text), code=1)
    opening = next(n for n, line in enumerate(text.splitlines(), start=1) if '"SK-2"' in line) - 1  # its "{"

    assert result["distributor_created"] and result["inserted"] == 1
    assert sql(fresh_db_url, "select locale, currency from distributors where slug = 'sol'") == [("pt-BR", "BRL")]
    assert f"line {opening}: price_cents must be a whole number, got 'muito'" in refused.output


def test_order_history_is_imported_once_with_customers_by_phone_hash(cli: Any, fresh_db_url: str) -> None:
    cli("catalog", "import", write("c.csv", CSV_HEADER + "A-1,Agua,,caja,12,9000,\n"), "--distributor", "lago")
    line = {"distributor": "lago", "external_id": "E-1", "customer": {"phone": "+52 1 55 1234 5678", "name": "Lupe"},
            "ordered_at": "2026-11-01T09:00:00-06:00", "items": [{"sku": "A-1", "quantity": 2}]}
    other = {**line, "external_id": "E-2", "customer": {"phone": "5215512345678", "name": "Lupe"}}
    path = write("h.jsonl", json.dumps(line) + "\n" + json.dumps(other) + "\n")

    first = json.loads(cli("orders", "import", path, "--json").stdout)
    again = json.loads(cli("orders", "import", path, "--json").stdout)
    bad = write("bad.jsonl", json.dumps({**line, "items": [{"sku": "NOPE", "quantity": 1}]}) + "\n")
    refused = cli("orders", "import", bad, code=1)

    assert (first["created"], first["customers_created"]) == (2, 1)
    assert (again["created"], again["existing"]) == (0, 2)
    assert "line 1: SKU(s) not in lago's catalog: NOPE" in refused.output
    rows = sql(fresh_db_url, "select c.phone, c.phone_hash is not null, c.phone_encrypted is not null, o.total_cents"
                             " from orders o join customers c on c.id = o.customer_id order by o.external_id")
    assert rows == [(None, True, True, 18000), (None, True, True, 18000)]
    listed = json.loads(cli("orders", "list", "--customer-phone", "+52 1 55 1234 5678", "--json").stdout)
    assert [o["external_id"] for o in listed] == ["E-1", "E-2"] or [o["external_id"] for o in listed] == ["E-2", "E-1"]
    assert set(listed[0]) >= {"id", "status", "created_at", "external_id", "customer", "total_cents", "currency",
                              "review_reasons", "lines"}
    assert set(listed[0]["lines"][0]) >= {"sku", "name", "quantity", "unit", "review_reason"}
    assert listed[0]["customer"]["name"] == "Lupe"


def graph(request: RecordedRequest) -> Reply:
    ok = request.headers.get("authorization") == f"Bearer {TOKEN}" and request.path.endswith(f"/{PHONE_NUMBER_ID}")
    return Reply(status=200, body=json.dumps({"id": PHONE_NUMBER_ID}).encode()) if ok else Reply(
        status=401, body=b'{"error": {"message": "Invalid OAuth access token"}}')


def whatsapp_args(token_file: str) -> list[str]:
    return ["integrations", "add", "whatsapp", "--distributor", "lago", "--phone-number-id", PHONE_NUMBER_ID,
            "--app-secret-file", write("app.txt", "app-secret-123\n"), "--access-token-file", token_file,
            "--verify-token", "verify-me-please"]


def test_whatsapp_needs_a_token_that_sees_the_number_and_stores_it_encrypted(
        cli: Any, fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with WebhookReceiver(handler=graph) as stand_in:
        monkeypatch.setenv("WHATSAPP_GRAPH_URL", stand_in.url)
        refused = cli(*whatsapp_args(write("wrong.txt", "EAAG-wrong\n")), code=1)
        saved = cli(*whatsapp_args(write("token.txt", TOKEN + "\n")))

    assert "not saved: the Graph API answered 401: Invalid OAuth access token" in refused.output
    assert "the token sees" in saved.output and TOKEN not in saved.output
    rows = sql(fresh_db_url, "select distributor_id, access_token, access_token_encrypted, app_secret"
                             " from external_integrations where kind = 'whatsapp_cloud'")
    assert len(rows) == 1 and rows[0][1] is None and TOKEN.encode() not in bytes(rows[0][2])
    assert asyncio.run(opened_token(fresh_db_url)) == TOKEN  # what issue 16's replies will read
    listed = cli("integrations", "list", "--json").stdout
    assert TOKEN not in listed and "app-secret-123" not in listed and json.loads(listed)[0]["has_access_token"]
    with psycopg.connect(fresh_db_url) as conn:
        admin = create_user(conn, rows[0][0], "admin")
        with impersonate(conn, admin), pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select access_token_encrypted from external_integrations")
        conn.rollback()


async def opened_token(url: str) -> str | None:
    repo = Repository(url, min_size=1, max_size=1)
    await repo.open()
    try:
        async with repo.pool.connection() as conn:
            cursor = await conn.execute("select distributor_id, access_token_encrypted from external_integrations"
                                        " where kind = 'whatsapp_cloud'")
            row = await cursor.fetchone()
        assert row is not None
        return await open_access_token(repo, row)
    finally:
        await repo.close()


def test_skip_verify_saves_without_asking_and_says_so(cli: Any) -> None:
    result = cli(*whatsapp_args(write("token.txt", TOKEN + "\n")), "--skip-verify")
    assert "NOT checked against the Graph API" in result.output and "NOT VERIFIED" in result.output


def test_a_channel_prints_its_secret_once(cli: Any, fresh_db_url: str) -> None:
    added = cli("integrations", "add", "channel", "--distributor", "lago", "--key", "gateway-1")
    secret = re.findall(r"whsec_\S+", added.output)
    stored = sql(fresh_db_url, "select id, signing_secret from external_integrations where kind = 'channel'")

    assert secret == [stored[0][1]]
    assert "whsec_" not in cli("integrations", "list").output
    cli("integrations", "disable", str(stored[0][0]))
    assert sql(fresh_db_url, "select enabled from external_integrations") == [(False,)]


def test_endpoints_add_rotate_test_and_disable(cli: Any, fresh_db_url: str) -> None:
    with WebhookReceiver() as erp:
        added = cli("endpoints", "add", erp.url, "--distributor", "lago", "--events", "order.created,order.updated")
        old = re.findall(r"whsec_\S+", added.output)[0]
        endpoint_id = json.loads(cli("endpoints", "list", "--json").stdout)[0]["id"]
        rotated = cli("endpoints", "rotate-secret", endpoint_id)
        new = re.findall(r"whsec_\S+", rotated.output)[0]
        erp.secrets = [new]
        tested = json.loads(cli("endpoints", "test", endpoint_id, "--json").stdout)
        ping = erp.requests[-1]

    assert tested["ok"] and tested["status_code"] == 200 and ping.verified
    assert len(ping.headers["webhook-signature"].split()) == 2  # the old secret still signs during the grace period
    assert json.loads(ping.body)["type"] == "ping"
    assert old not in cli("endpoints", "list").output
    cli("endpoints", "disable", endpoint_id)
    assert sql(fresh_db_url, "select enabled, event_types from webhook_endpoints") == [
        (False, ["order.created", "order.updated"])]
    cli("endpoints", "test", str(uuid.uuid4()), code=3)


def test_budgets_set(cli: Any, fresh_db_url: str) -> None:
    cli("budgets", "set", "--distributor", "lago", "--monthly-usd", "25", "--mode", "hard", "--thresholds", "80,50")
    cli("budgets", "set", "--distributor", "lago", "--monthly-usd", "25", "--mode", "firm", code=1)
    assert sql(fresh_db_url, "select monthly_budget_micro_usd, mode, thresholds from ai_budgets") == [
        (25_000_000, "hard", [50, 80])]


def test_ingest_takes_the_provider_id_and_received_at_and_messages_list_oldest_first(
        cli: Any, fresh_db_url: str) -> None:
    lines = [{"distributor": "lago", "from": "+5215511112222", "text": "segundo", "id": "wamid.2",
              "received_at": "2026-12-01T10:05:00-06:00"},
             {"distributor": "lago", "from": "+5215511112222", "text": "primero", "id": "wamid.1",
              "received_at": "2026-12-01T10:00:00-06:00"}]
    path = write("m.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    cli("ingest", path)
    cli("ingest", path)  # the same provider ids: stored once
    refused = cli("ingest", write("naive.jsonl", json.dumps({**lines[0], "id": "wamid.3",
                                                            "received_at": "2026-12-01T10:00:00"}) + "\n"), code=1)
    sql(fresh_db_url, "update messages set body_redacted = body")  # what the worker's redaction would leave here
    sql(fresh_db_url, "insert into messages (distributor_id, conversation_id, customer_id, direction, channel, body,"
                      " state, received_at) select distributor_id, conversation_id, customer_id, 'outbound', channel,"
                      " 'recibido', 'outbound', '2026-12-01T16:06:00Z' from messages limit 1")

    listed = json.loads(cli("messages", "list", "--customer-phone", "+52 1 55 1111 2222", "--json").stdout)

    assert "needs a time zone" in refused.output
    assert [(m["direction"], m["text"], m["status"]) for m in listed] == [
        ("inbound", "primero", "queued"), ("inbound", "segundo", "queued"), ("outbound", "recibido", "queued")]
    assert listed[0]["received_at"] == "2026-12-01T16:00:00+00:00"
    assert set(listed[0]) >= {"id", "direction", "kind", "text", "status", "received_at"}


def test_messages_never_show_an_unredacted_inbound_body(cli: Any) -> None:
    path = write("m.jsonl", json.dumps({"distributor": "lago", "from": "+5215511112222", "id": "wamid.9",
                                        "text": "soy Ana, mi cel 5512345678"}) + "\n")
    cli("ingest", path)
    listed = json.loads(cli("messages", "list", "--distributor", "lago", "--json").stdout)
    assert listed[0]["text"] is None and "5512345678" not in json.dumps(listed)
