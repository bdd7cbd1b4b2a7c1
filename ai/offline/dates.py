"""Delivery date words ("mañana", "para el lunes", "pra sexta", "for Thursday", "15 de diciembre",
"Dec 15th") → an ISO date.

Counted from the distributor's local date: "mañana" is today + 1 and a weekday is the next
such day strictly after today (so "el lunes" said on a Monday means a week later). The
same patterns give the parser the spans to cut out of product lines (`delivery_spans`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ai import lexicon
from ai.contract import DeliveryHint
from ai.lexicon import LANGUAGES, table, table_all, words_all
from ai.offline.pack_units import PACK_WORDS
from ai.text import fold

_PREFIX = (
    r"(?:(?:para|pa|pra|pro|el|este|esta|proximo|proxima|hasta|ate|na|no|nesta|neste|essa|nessa|dia|"
    r"for|on|by|this|next|until|til|till|the|entrega|entregar|deliver|delivery)\s+)*"
)
_TIME_OF_DAY = (
    r"(?:\s+(?:temprano|early|cedo|tarde|(?:en|por|pela|de|na|in|a)\s+(?:la\s+|the\s+)?"
    r"(?:manana|tarde|noche|manha|morning|afternoon|evening|am|pm)|"
    r"(?:a\s+las|at|as|antes\s+de\s+las|before|by)\s+\d{1,2}(?::\d{2})?\s*(?:am|pm|h|hrs)?))*"
)
# Relative days, weekdays, month names and urgency words: lexicon dates.toml of every language.
_RELATIVE: tuple[tuple[str, int], ...] = tuple(
    (str(pattern), int(days)) for lang in LANGUAGES for pattern, days in lexicon.value(lang, "dates", "relative")
)
_WEEKDAYS: dict[str, int] = dict(table_all("dates", "weekdays"))
_PT_WEEKDAYS: dict[str, int] = dict(table_all("dates", "weekdays_feira"))
_EN_SHORT: dict[str, int] = dict(table_all("dates", "weekdays_short"))
_URGENT = rf"\b(?:{'|'.join(words_all('dates', 'urgent'))})\b"
_WEEKEND = "|".join(words_all("dates", "weekend"))

_WEEKDAY_NAMES = "|".join(_WEEKDAYS)
_PT_WEEKDAY_NAMES = "|".join(_PT_WEEKDAYS)
_EN_SHORT_NAMES = "|".join(_EN_SHORT)


@dataclass(frozen=True)
class _Gated:
    """A pattern and a cheap one that must match somewhere for the pattern to match at all."""

    pattern: re.Pattern[str]
    gate: re.Pattern[str]

    def finditer(self, folded: str) -> list[re.Match[str]]:
        return list(self.pattern.finditer(folded)) if self.gate.search(folded) else []


def _gated(pattern: str, gate: str) -> _Gated:
    return _Gated(re.compile(pattern), re.compile(gate))


# each gate is a part that every match of its pattern contains
_RELATIVE_RE = [(_gated(rf"\b{_PREFIX}(?:{core}){_TIME_OF_DAY}\b", core), days) for core, days in _RELATIVE]
_ANY_RELATIVE = re.compile("|".join(f"(?:{core})" for core, _ in _RELATIVE))  # the gate of all of them
_WEEKDAY_RE = _gated(
    rf"\b{_PREFIX}(?<!los\s)(?<!las\s)({_WEEKDAY_NAMES})\b{_TIME_OF_DAY}", _WEEKDAY_NAMES
)
_PT_WEEKDAY_RE = _gated(
    rf"\b(?:(?:pra|para|na|no|ate|nesta|proxima|dia|essa|nessa)\s+)+({_PT_WEEKDAY_NAMES})"
    rf"(?:[-\s]feira)?\b{_TIME_OF_DAY}|\b({_PT_WEEKDAY_NAMES})[-\s]feira\b{_TIME_OF_DAY}",
    _PT_WEEKDAY_NAMES,
)
_EN_SHORT_RE = _gated(rf"\b(?:for|on|by|next|this|til|till|until)\s+({_EN_SHORT_NAMES})\b\.?", rf"\s(?:{_EN_SHORT_NAMES})")
_NUMERIC_RE = _gated(
    r"\b(?:para\s+el|para\s+o|pra|el|dia|for|on|by|entrega|delivery)\s+(?:dia\s+)?"
    r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b",
    r"\d[/.-]\d",
)
_DAY_OF_MONTH_RE = _gated(
    r"\b(?:(?:para\s+)?el\s+dia|(?:para\s+o\s+|pro\s+|no\s+)?dia|(?:on|for|by)\s+the)\s+(\d{1,2})(?:st|nd|rd|th)?\b",
    r"(?:dia|the)\s+\d",
)
# "para el 15 de este mes", "dia 15 deste mês", "the 15th of this month": a day of the current month.
_DAY_OF_THIS_MONTH_RE = _gated(
    r"\b(?:(?:para|pra|pro|for|by|on)\s+)?(?:el|o|dia|the)?\s*(\d{1,2})(?:st|nd|rd|th)?\s+"
    r"(?:de\s+este|deste|do|del|of\s+this|of\s+the)\s+(?:mes|month)\b",
    r"\d(?:st|nd|rd|th)?\s+(?:de\s+este|deste|do|del|of\s+this|of\s+the)\s+(?:mes|month)\b",
)
# Month names, folded. Spanish and Portuguese write "15 de diciembre" / "15 de dezembro" (always with
# "de"); English "December 15", "Dec 15th", "15 December" or "the 15th of December". Names that are
# also ordinary words ("mayo" the mayonnaise, "may", "mar", "set", "out") count only with "de"/"of" or
# an ordinal ("May 5th"), and only for a date within AMBIGUOUS_WITHIN_DAYS ("2 de mayo" said in
# November is two cases of mayonnaise). The words stay on one line: "ketchup x 2\nmayo x 2" is a list.
_MONTHS: dict[str, int] = dict(table_all("dates", "months"))
_MONTHS_EN: dict[str, int] = dict(table("en", "dates", "months"))  # the ones that also come before the day
_MONTHS_AMBIGUOUS: dict[str, int] = dict(table_all("dates", "months_ambiguous"))
AMBIGUOUS_WITHIN_DAYS = 120
_MONTH_ANY = {**_MONTHS, **_MONTHS_AMBIGUOUS}


def _names(months: dict[str, int]) -> str:
    return "|".join(sorted(months, key=len, reverse=True))


_SP = r"[ \t]+"  # spaces within a line
_ORDINAL = r"(?:st|nd|rd|th|o|a)"
_DATE_PREFIX = rf"(?:(?:para|pra|el|o|dia|for|on|by|the|entrega|delivery|deliver|until|hasta|ate){_SP})*"
_DAY_MONTH_RE = _gated(
    rf"\b{_DATE_PREFIX}(\d{{1,2}}){_ORDINAL}?{_SP}(?:de|of){_SP}({_names(_MONTH_ANY)})\b\.?"
    rf"|\b{_DATE_PREFIX}(\d{{1,2}}){_ORDINAL}?{_SP}({_names(_MONTHS_EN)})\b\.?",
    rf"\d{_ORDINAL}?{_SP}(?:(?:de|of){_SP})?(?:{_names(_MONTH_ANY)})\b",
)
# "December 3 cases of fries": a count of a pack word after the month is a quantity, not a day
_NOT_A_COUNT = rf"(?!\s*(?:{'|'.join(sorted(map(re.escape, PACK_WORDS), key=len, reverse=True))})\b)"
_MONTH_DAY_RE = _gated(
    rf"\b{_DATE_PREFIX}(?:({_names(_MONTHS_EN)})\.?{_SP}(\d{{1,2}}){_ORDINAL}?\b{_NOT_A_COUNT}"
    rf"|({_names({**_MONTHS_EN, **_MONTHS_AMBIGUOUS})})\.?{_SP}(\d{{1,2}}){_ORDINAL}\b)",
    rf"(?:{_names(_MONTH_ANY)})\.?{_SP}\d",
)
# "this weekend", "el fin de semana", "neste fim de semana": the coming Saturday
_WEEKEND_RE = _gated(
    rf"\b{_PREFIX}(?:(?:this|next|the|este|el|proximo|neste|nesse|no|este|o|proximo)\s+)*"
    rf"(?:{_WEEKEND})\b",
    _WEEKEND,
)
_URGENT_RE = re.compile(_URGENT)

# What the patterns find in a text, before the language and today's date give it a meaning:
# (kind, start, end, value, second, year). "days": value = days from today; "weekday": value =
# weekday number; "numeric": value, second, year = the numbers as written; "day": value = day of month;
# "calendar": value = day of month, second = month (named), year = 1 when the month word is ambiguous.
_Hit = tuple[str, int, int, int, int, int | None]


@dataclass(frozen=True, kw_only=True)
class _Found:
    start: int
    end: int
    when: date | None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or 7)


def _calendar(today: date, day: int, month: int | None, year: int | None) -> date | None:
    if month is None:
        month, year = today.month, today.year
        for _ in range(2):
            try:
                candidate = date(year, month, day)
            except ValueError:
                candidate = None
            if candidate is not None and candidate >= today:
                return candidate
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        return None
    full_year = today.year if year is None else (year + 2000 if year < 100 else year)
    try:
        candidate = date(full_year, month, day)
    except ValueError:
        return None
    if year is None and candidate < today:
        candidate = candidate.replace(year=full_year + 1)
    return candidate


def _scan(folded: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for pattern, days in _RELATIVE_RE if _ANY_RELATIVE.search(folded) else ():
        hits.extend(("days", m.start(), m.end(), days, 0, None) for m in pattern.finditer(folded))
    for m in _WEEKDAY_RE.finditer(folded):
        hits.append(("weekday", m.start(), m.end(), _WEEKDAYS[m.group(1)], 0, None))
    for m in _PT_WEEKDAY_RE.finditer(folded):
        hits.append(("weekday", m.start(), m.end(), _PT_WEEKDAYS[m.group(1) or m.group(2)], 0, None))
    for m in _EN_SHORT_RE.finditer(folded):
        hits.append(("weekday", m.start(), m.end(), _EN_SHORT[m.group(1)], 0, None))
    for m in _WEEKEND_RE.finditer(folded):
        hits.append(("weekday", m.start(), m.end(), 5, 0, None))
    for m in _NUMERIC_RE.finditer(folded):
        year = int(m.group(3)) if m.group(3) else None
        hits.append(("numeric", m.start(), m.end(), int(m.group(1)), int(m.group(2)), year))
    for m in _DAY_OF_MONTH_RE.finditer(folded):
        hits.append(("day", m.start(), m.end(), int(m.group(1)), 0, None))
    for m in _DAY_OF_THIS_MONTH_RE.finditer(folded):
        if not any(kind == "day" and m.start() < end and start < m.end() for kind, start, end, *_ in hits):
            hits.append(("day", m.start(), m.end(), int(m.group(1)), 0, None))
    for m in _DAY_MONTH_RE.finditer(folded):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        hits.append(("calendar", m.start(), m.end(), int(day), _MONTH_ANY[month], int(month in _MONTHS_AMBIGUOUS)))
    for m in _MONTH_DAY_RE.finditer(folded):
        if any(kind == "calendar" and m.start() < end and start < m.end() for kind, start, end, *_ in hits):
            continue  # "15 December 3 cases": the month belongs to the day before it, not to the count after
        month, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        hits.append(("calendar", m.start(), m.end(), int(day), _MONTH_ANY[month], int(month in _MONTHS_AMBIGUOUS)))
    return hits


_last_scan: tuple[str, list[_Hit]] = ("", [])  # the parser and the resolver scan the same message


def _hits(folded: str) -> list[_Hit]:
    global _last_scan
    last = _last_scan
    if last[0] == folded:
        return last[1]
    hits = _scan(folded)
    _last_scan = (folded, hits)
    return hits


def _find(folded: str, language: str, today: date) -> list[_Found]:
    found: list[_Found] = []
    for kind, start, end, value, second, year in _hits(folded):
        if kind == "days":
            found.append(_Found(start=start, end=end, when=today + timedelta(days=value)))
        elif kind == "weekday":
            found.append(_Found(start=start, end=end, when=_next_weekday(today, value)))
        elif kind == "numeric":
            day, month = (second, value) if language == "en" else (value, second)
            if 1 <= month <= 12:
                found.append(_Found(start=start, end=end, when=_calendar(today, day, month, year)))
        elif kind == "calendar":
            when = _calendar(today, value, second, None) if 1 <= value <= 31 else None
            if when is not None and (not year or (when - today).days <= AMBIGUOUS_WITHIN_DAYS):
                found.append(_Found(start=start, end=end, when=when))
        elif 1 <= value <= 31:
            found.append(_Found(start=start, end=end, when=_calendar(today, value, None, None)))
    return sorted(found, key=lambda f: (f.start, -f.end))


def delivery_spans(text: str) -> list[tuple[int, int]]:
    """Spans of date and urgency words in any language, for cutting them out of product lines."""
    folded = fold(text)
    spans = [(f.start, f.end) for f in _find(folded, "es", date(2000, 1, 1))]
    spans.extend((m.start(), m.end()) for m in _URGENT_RE.finditer(folded))
    return sorted(spans)


def resolve_delivery(text: str, language: str, now: datetime, timezone: str) -> DeliveryHint | None:
    """The first delivery date the message gives, resolved in the distributor's timezone."""
    folded = fold(text)
    today = now.astimezone(_zone(timezone)).date()
    found = _find(folded, language, today)
    if not found:
        return None
    first = found[0]
    words = text[first.start : first.end].strip(" ,.:;!?")
    return DeliveryHint(text=words, date=first.when.isoformat() if first.when else None)


__all__ = ["delivery_spans", "resolve_delivery"]
