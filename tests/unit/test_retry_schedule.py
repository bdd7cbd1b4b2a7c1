"""The delivery retry schedule, Retry-After, and outcome classification."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhooks.outbound.schedule import (
    ERROR_BLOCKED,
    ERROR_INVALID_URL,
    JITTER,
    MAX_ATTEMPTS,
    MAX_DELAY,
    SCHEDULE,
    classify,
    next_attempt_delay,
    parse_retry_after,
)

NOW = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


def test_schedule_is_the_standard_one() -> None:
    assert SCHEDULE == (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
    assert MAX_ATTEMPTS == 8


def test_first_attempt_is_immediate() -> None:
    assert next_attempt_delay(0) == 0.0


@pytest.mark.parametrize("attempts_made", range(1, 8))
def test_delays_within_jitter(attempts_made: int) -> None:
    base = SCHEDULE[attempts_made]
    delays = [next_attempt_delay(attempts_made, rng=random.Random(seed)) for seed in range(200)]
    assert all(d is not None and base * (1 - JITTER) <= d <= base * (1 + JITTER) for d in delays)
    assert len(set(delays)) > 100  # actually jittered


@pytest.mark.parametrize("attempts_made", [8, 9, 100])
def test_dead_after_the_last_attempt(attempts_made: int) -> None:
    assert next_attempt_delay(attempts_made) is None


def test_whole_schedule_walk() -> None:
    rng = random.Random(7)
    delays = []
    attempts = 0
    while (delay := next_attempt_delay(attempts, rng=rng)) is not None:
        delays.append(delay)
        attempts += 1
    assert attempts == 8
    assert 0.9 * sum(SCHEDULE) <= sum(delays) <= 1.1 * sum(SCHEDULE)  # about 27.6 hours


def test_negative_attempts_rejected() -> None:
    with pytest.raises(ValueError):
        next_attempt_delay(-1)


def test_seeded_rng_is_deterministic() -> None:
    assert next_attempt_delay(3, rng=random.Random(1)) == next_attempt_delay(3, rng=random.Random(1))


def test_retry_after_pushes_later_never_earlier() -> None:
    rng = random.Random(0)
    assert next_attempt_delay(1, retry_after="120", rng=rng) == 120.0  # 5 s schedule, server asks 120 s
    later = next_attempt_delay(3, retry_after="1", rng=random.Random(0))
    assert later == next_attempt_delay(3, rng=random.Random(0))  # 30 min schedule beats 1 s


def test_retry_after_http_date_and_cap() -> None:
    in_ten_minutes = format_datetime(NOW + timedelta(minutes=10), usegmt=True)
    assert next_attempt_delay(1, retry_after=in_ten_minutes, now=NOW) == 600.0
    assert next_attempt_delay(1, retry_after=str(7 * 86400)) == MAX_DELAY
    assert next_attempt_delay(1, retry_after="9" * 40) == MAX_DELAY


def test_retry_after_garbage_is_ignored() -> None:
    assert next_attempt_delay(1, retry_after="soon", rng=random.Random(0)) == next_attempt_delay(
        1, rng=random.Random(0)
    )


def test_retry_after_does_not_revive_a_dead_message() -> None:
    assert next_attempt_delay(8, retry_after="5") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("0", 0.0),
        ("120", 120.0),
        (" 30 ", 30.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Mon, 23 Nov 2026 09:02:00 GMT", 120.0),  # IMF-fixdate
        ("Mon, 23 Nov 2026 08:00:00 GMT", 0.0),  # in the past
        ("Monday, 23-Nov-26 09:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Mon, 23 Nov 2026 09:01:00 -0000", 60.0),  # zone-less: UTC
        ("Mon, 99 Nov 2026 09:01:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@given(st.text(max_size=60))
def test_parse_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_classify_success(status: int) -> None:
    assert classify(status, None) == "success"


def test_classify_gone_disables() -> None:
    assert classify(410, None) == "disable"


@pytest.mark.parametrize("status", [100, 301, 302, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504])
def test_classify_other_statuses_retry(status: int) -> None:
    assert classify(status, None) == "retry"


@pytest.mark.parametrize("error", ["timeout", "connect_error", "ReadTimeout: timed out", "tls", None])
def test_classify_transport_errors_retry(error: str | None) -> None:
    assert classify(None, error) == "retry"


@pytest.mark.parametrize("error", [ERROR_BLOCKED, ERROR_INVALID_URL])
def test_classify_refused_targets_fail(error: str) -> None:
    assert classify(None, error) == "fail"


def test_status_wins_over_error_text() -> None:
    assert classify(200, "ignored") == "success"
