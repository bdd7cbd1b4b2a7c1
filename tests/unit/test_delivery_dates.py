"""Delivery words → ISO dates in the distributor's timezone, from a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai.offline.dates import delivery_spans, resolve_delivery

# Wednesday 25 November 2026, 15:00 UTC: 09:00 in Mexico City, 12:00 in São Paulo, 09:00 in Chicago.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
MX, BR, US = "America/Mexico_City", "America/Sao_Paulo", "America/Chicago"


@pytest.mark.parametrize(
    ("text", "language", "timezone", "words", "iso"),
    [
        ("para mañana temprano porfa", "es", MX, "para mañana temprano", "2026-11-26"),
        ("hoy mismo", "es", MX, "hoy", "2026-11-25"),
        ("pasado mañana", "es", MX, "pasado mañana", "2026-11-27"),
        ("para el lunes: 6 pan bimbo", "es", MX, "para el lunes", "2026-11-30"),
        ("el miércoles", "es", MX, "el miércoles", "2026-12-02"),  # today is Wednesday: next week
        ("el sábado", "es", MX, "el sábado", "2026-11-28"),
        ("4 caixas pra sexta", "pt", BR, "pra sexta", "2026-11-27"),
        ("amanhã cedo", "pt", BR, "amanhã cedo", "2026-11-26"),
        ("entrega na segunda-feira", "pt", BR, "na segunda-feira", "2026-11-30"),
        ("hoje", "pt", BR, "hoje", "2026-11-25"),
        ("3 cases for Thursday?", "en", US, "for Thursday", "2026-11-26"),
        ("tomorrow's order", "en", US, "tomorrow's", "2026-11-26"),
        ("deliver on Monday please", "en", US, "deliver on Monday", "2026-11-30"),
        ("next fri", "en", US, "next fri", "2026-11-27"),
        ("para el 15/12", "es", MX, "para el 15/12", "2026-12-15"),
        ("for 12/3", "en", US, "for 12/3", "2026-12-03"),
        ("el día 2", "es", MX, "el día 2", "2026-12-02"),
        ("3 cajas de agua para el 15 de diciembre", "es", MX, "para el 15 de diciembre", "2026-12-15"),
        ("2 garrafones el 3 de enero", "es", MX, "el 3 de enero", "2027-01-03"),  # January has passed: next year
        ("4 cajas para el 5 de dic", "es", MX, "para el 5 de dic", "2026-12-05"),
        ("manda 3 caixas dia 15 de dezembro", "pt", BR, "dia 15 de dezembro", "2026-12-15"),
        ("10 fardos pra 2 de janeiro", "pt", BR, "pra 2 de janeiro", "2027-01-02"),
        ("2 cases of lemons for December 15", "en", US, "for December 15", "2026-12-15"),
        ("chicken on Dec. 3rd", "en", US, "on Dec. 3rd", "2026-12-03"),
        ("4 cases of fries by the 15th of December", "en", US, "by the 15th of December", "2026-12-15"),
        ("Mar 3rd please", "en", US, "Mar 3rd", "2027-03-03"),  # an ambiguous word, with an ordinal, 98 days ahead
        ("15 December 3 cases fries", "en", US, "15 December", "2026-12-15"),
        # a day of this month (today is the 25th)
        ("para el 28 de este mes me mandas 8 rejas", "es", MX, "para el 28 de este mes", "2026-11-28"),
        ("3 de coca el 27 del mes", "es", MX, "el 27 del mes", "2026-11-27"),
        ("for the 28th of this month send 2 cases", "en", US, "for the 28th", "2026-11-28"),
    ],
)
def test_resolves(text: str, language: str, timezone: str, words: str, iso: str) -> None:
    hint = resolve_delivery(text, language, NOW, timezone)
    assert hint is not None
    assert (hint.text, hint.date) == (words, iso)


def test_uses_the_distributor_timezone() -> None:
    late = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # still Tuesday evening in Mexico City
    hint = resolve_delivery("mañana", "es", late, MX)
    assert hint is not None and hint.date == "2026-11-25"
    hint = resolve_delivery("tomorrow", "en", late, "UTC")
    assert hint is not None and hint.date == "2026-11-26"


@pytest.mark.parametrize(
    "text",
    [
        "What time does the truck usually come on Mondays?",  # a habit, not a date
        "por la mañana estoy en la tienda",  # in the morning
        "gloves large x4, exp 09/28",  # a card expiry
        "3 cajas de coca 600",
        "I may need 5 cases of lettuce",  # "may" is a verb here
        "a set of 2 knives",
        "December 3 cases of fries",  # 3 is a count of cases
        "quiero 2 de mayo y 3 de catsup",  # mayonnaise: May 2 would be five months ahead
        "ketchup x 2\nmayo x 2",  # a list, not "2 May"
        "May 5th please",  # five months ahead: not a delivery date
        "",
    ],
)
def test_no_date(text: str) -> None:
    assert resolve_delivery(text, "en", NOW, US) is None


def test_unknown_timezone_falls_back_to_utc() -> None:
    hint = resolve_delivery("hoy", "es", NOW, "Not/AZone")
    assert hint is not None and hint.date == "2026-11-25"


def test_a_named_date_is_cut_out_of_the_product_lines() -> None:
    text = "me mandas 3 cajas de agua para el 15 de diciembre"
    covered = "".join(text[a:b] for a, b in delivery_spans(text))
    assert covered.strip() == "para el 15 de diciembre"
    text = "15 December 3 cases fries"
    assert "3 cases" not in "".join(text[a:b] for a, b in delivery_spans(text))


def test_spans_cover_dates_and_urgency() -> None:
    text = "need 2 jugs of fryer oil asap for Thursday"
    covered = "".join(text[a:b] for a, b in delivery_spans(text))
    assert "asap" in covered and "Thursday" in covered
    assert "fryer" not in covered
