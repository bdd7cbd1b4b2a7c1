"""The WhatsApp Cloud API send contract: what Meta's answers mean, message shapes, pacing, button titles."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from ai.lexicon import LANGUAGES
from webhooks.outbound import graph
from webhooks.outbound.replies import backoff, channel_payload
from webhooks.outbound.throughput import Pacer
from worker.replies import button_titles


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers or {})


def meta_error(code: int, status: int = 400) -> httpx.Response:
    return answer(status, {"error": {"message": f"error {code}", "type": "OAuthException", "code": code}})


def test_an_accepted_send_gives_the_wamid() -> None:
    result = graph.classify(answer(200, {"messages": [{"id": "wamid.ABC"}]}))
    assert (result.outcome, result.wamid) == ("accepted", "wamid.ABC")


def test_an_accepted_send_without_a_wamid_is_failed_not_retried() -> None:
    assert graph.classify(answer(200, {"messages": []})).outcome == "failed"


@pytest.mark.parametrize(("response", "outcome", "code"), [
    (meta_error(131047), "window_closed", "131047"),
    (meta_error(130429), "retry", "130429"),
    (meta_error(131056), "retry", "131056"),
    (meta_error(131026), "failed", "131026"),
    (meta_error(100), "failed", "100"),
    (meta_error(190, status=401), "token", "190"),
    (meta_error(190, status=400), "token", "190"),
    (answer(401, {}), "token", "401"),
    (answer(503, {}), "retry", "503"),
    (httpx.Response(502, content=b"<html>bad gateway</html>"), "retry", "502"),
])
def test_meta_error_codes_decide_what_happens_next(response: httpx.Response, outcome: str, code: str) -> None:
    result = graph.classify(response)
    assert (result.outcome, result.error_code) == (outcome, code)


def test_retry_after_is_read_from_a_rate_limit_answer() -> None:
    response = answer(429, {"error": {"code": 130429, "message": "Rate limit hit"}}, {"retry-after": "7"})
    assert graph.classify(response).retry_after == 7.0


def test_a_template_parameter_has_no_new_lines_tabs_or_long_runs_of_spaces() -> None:
    assert graph.template_parameter("Tu pedido:\n3 × Coca\r\n\tTotal      $30\n") == "Tu pedido: · 3 × Coca · Total   $30"


def test_the_template_language_defaults_to_the_replys_language() -> None:
    assert graph.template_language(None, "pt") == "pt_BR"
    assert graph.template_language(None, "es-MX") == "es"
    assert graph.template_language("es_MX", "en") == "es_MX"
    assert graph.template_language(None, None) == "en"


def test_a_button_message_carries_both_reply_buttons_with_short_titles() -> None:
    buttons = graph.Buttons(confirm_id="confirm:o1", confirm_title="Sí, confirmar", change_id="change:o1",
                            change_title="A title much longer than twenty")
    message = graph.button_message("5215550001", "Tu pedido", buttons)
    replies = [b["reply"] for b in message["interactive"]["action"]["buttons"]]
    assert replies == [{"id": "confirm:o1", "title": "Sí, confirmar"},
                       {"id": "change:o1", "title": "A title much longer "}]
    assert message["to"] == "5215550001" and message["interactive"]["type"] == "button"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_button_titles_fit_whatsapps_twenty_characters(lang: str) -> None:
    confirm, change = button_titles(lang)
    assert 0 < len(confirm) <= graph.BUTTON_TITLE_MAX and 0 < len(change) <= graph.BUTTON_TITLE_MAX
    assert confirm != change


def test_button_titles_of_an_unknown_language_fall_back_to_english() -> None:
    assert button_titles("de") == button_titles("en")
    assert button_titles("es-MX") == ("Sí, confirmar", "Cambiar pedido")


def test_the_pacer_spaces_sends_of_one_number_and_not_of_another() -> None:
    now = [100.0]
    pacer = Pacer(default_rate=10.0, clock=lambda: now[0])
    assert [pacer.reserve("a") for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    assert pacer.reserve("b") == 0.0
    assert pacer.reserve("c", rate=2.0) == 0.0 and pacer.reserve("c", rate=2.0) == pytest.approx(0.5)


def test_a_paused_number_waits_out_the_pause() -> None:
    now = [0.0]
    pacer = Pacer(default_rate=80.0, clock=lambda: now[0])
    pacer.pause("a", 3.0)
    assert pacer.reserve("a") == pytest.approx(3.0)
    now[0] = 10.0
    assert pacer.reserve("a") == 0.0


def test_backoff_doubles_per_attempt_within_the_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff(n, base=2.0, rng=rng) for n in (1, 2, 3)]
    for delay, expected in zip(delays, (2.0, 4.0, 8.0), strict=True):
        assert expected * 0.9 <= delay <= expected * 1.1


def test_a_channel_reply_body_is_the_same_bytes_on_every_attempt() -> None:
    row = {"reply_id": "r1", "message_id": "m1", "body": "Hola", "language": "es", "order_id": None}
    first, second = channel_payload(row, "+52155", []), channel_payload(row, "+52155", [])
    assert first == second
    assert json.loads(first) == {"type": "message.reply", "data": {
        "reply_id": "r1", "message_id": "m1", "to": "+52155", "text": "Hola", "language": "es", "order_id": None,
        "buttons": []}}
