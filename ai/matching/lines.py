"""Parsed lines → catalog products, quantities in the product's unit, and a confidence per line.

Confidence = match score × quantity certainty × unit fit, capped when the best two products
are too close to tell apart. Review reasons are machine-readable ("unmatched",
"low_confidence", "ambiguous", "unit_mismatch", "pack_conversion", "no_quantity"); the analyzer adds the line number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ai.catalog import Catalog
from ai.matching.matcher import Candidate, Matcher
from ai.matching.variants import conflicts
from ai.offline.lines import ParsedLine
from ai.offline.pack_units import PACK_CONVERSION, fit_product
from ai.offline.quantities import AMOUNT_MEASURES, MAX_COUNT
from ai.offline.vocabulary import OF_WORDS, TAIL_STARTS
from ai.pack_facts import measure_family
from ai.text import fold

SIZE_MISMATCH = "size_mismatch"  # review reason: a size or size word the catalog lacks for that product
REVIEW_CONFIDENCE = 0.75  # a line under this goes to a person
MIN_MATCH_SCORE = 0.5  # below this the line has no product (sku None)
IMPLICIT_QUANTITY = 1.0  # "necesito leche lala": one, but say so
IMPLICIT_QUANTITY_CERTAINTY = 0.7  # below REVIEW_CONFIDENCE on purpose: a person confirms the count
AMBIGUITY_MARGIN = 0.1  # a runner-up this close to a fuzzy best match makes the line ambiguous
AMBIGUOUS_CONFIDENCE_CAP = 0.7
MERGE_GAIN = 0.05  # "mac and cheese": re-join a split line when the joined phrase scores this much better
CANDIDATES_CONSIDERED = 3

_TRAILING_NUMBER = re.compile(r"^(.*\S)\s+(\d{1,3})$")  # "leite 5", "coca 600 3"
_LEADING_AMOUNT = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([a-z]+)\s+(.+)$")


@dataclass(frozen=True, kw_only=True)
class MatchedLine:
    parsed: ParsedLine
    candidate: Candidate | None  # None: no product fits
    runner_up: Candidate | None
    quantity: float  # in the matched product's unit
    counted: bool  # the customer gave a count
    confidence: float  # 0..1
    reasons: tuple[str, ...]

    @property
    def sku(self) -> str | None:
        return self.candidate.sku if self.candidate else None

    def evidence(self) -> str:
        if self.candidate is None:
            return "no catalog product fits"
        text = f"{self.candidate.method} score {self.candidate.score:.2f}"
        if self.runner_up is not None:
            text += f"; next {self.runner_up.sku} {self.runner_up.score:.2f}"
        return text


def _top(matcher: Matcher, phrase: str) -> float:
    found = matcher.candidates(phrase, limit=1)
    return found[0].score if found else 0.0


def _with_aside(line: ParsedLine, matcher: Matcher) -> ParsedLine:
    """ "gloves (large)": the parenthesis joins the product words when they match at least as well."""
    if not line.aside:
        return line
    joined = f"{line.phrase} {line.aside}"
    if _top(matcher, joined) >= _top(matcher, line.phrase):
        return replace(line, phrase=joined, aside="")
    return replace(line, aside="")


def _rejoin(lines: Sequence[ParsedLine], matcher: Matcher) -> list[ParsedLine]:
    """Undo a split at "y/and/e" when the joined words name one product better."""
    out: list[ParsedLine] = []
    for line in (_with_aside(line, matcher) for line in lines):
        previous = out[-1] if out else None
        if line.joined and previous is not None and previous.sentence == line.sentence:
            joined = f"{previous.phrase} and {line.phrase}"
            if _top(matcher, joined) >= max(_top(matcher, previous.phrase), _top(matcher, line.phrase)) + MERGE_GAIN:
                out[-1] = replace(previous, text=f"{previous.text} {line.text}", phrase=joined)
                continue
        out.append(line)
    return out


def _trailing_count(line: ParsedLine, matcher: Matcher) -> ParsedLine:
    """ "leite 5": a bare trailing number is a count when the product matches as well without it."""
    found = _TRAILING_NUMBER.match(line.phrase)
    if line.quantity is not None or found is None or int(found.group(2)) > MAX_COUNT:
        return line
    without, number = found.group(1).strip(), float(found.group(2))
    if _top(matcher, without) >= max(_top(matcher, line.phrase), MIN_MATCH_SCORE):
        return replace(line, phrase=without, quantity=number)
    return line


def _trim_tail(line: ParsedLine, matcher: Matcher) -> ParsedLine:
    """ "corona pa la fiesta", "water to our second location", "takis al pedido de Juan": words from a
    purpose or destination word on are not product words when the product matches better without them."""
    words = line.phrase.split()
    cuts = [k for k in range(1, len(words)) if fold(words[k]) in TAIL_STARTS]
    if not cuts:
        return line
    whole = _top(matcher, line.phrase)
    best, head = whole + MERGE_GAIN, None
    for k in cuts:
        candidate = " ".join(words[:k])
        score = _top(matcher, candidate)
        if score >= max(best, MIN_MATCH_SCORE):  # a tie keeps the longer head
            best, head = score, candidate
    return line if head is None else replace(line, phrase=head)


def _names_another_size(line: ParsedLine, candidate: Candidate, catalog: Catalog) -> bool:
    product = catalog.by_sku(candidate.sku)
    return product is not None and conflicts(line.phrase, product, catalog.products, line.unit)


def _elided_pack(line: ParsedLine) -> bool:
    """ "8 fardos de guaraná, 8 de coca": a count straight before "de"/"of" leaves its pack word out."""
    words = fold(line.text).split()
    return len(words) > 2 and words[1] in OF_WORDS and line.unit is None


def _leading_amount(line: ParsedLine, matcher: Matcher, catalog: Catalog) -> MatchedLine | None:
    """ "36 litros de aceite", "8 gallons of whole milk": an amount of at least one pack leading an uncounted
    line is a count of packs when the product's pack (ai.pack_facts) holds it exactly; otherwise a person."""
    found = _LEADING_AMOUNT.match(fold(line.phrase))
    if found is None or measure_family(found.group(2)) is None:
        return None
    words = found.group(3).split()
    rest = " ".join(words[1:] if words and words[0] in OF_WORDS else words)
    candidates = matcher.candidates(rest, limit=1) if rest else []
    product = catalog.by_sku(candidates[0].sku) if candidates and candidates[0].score >= MIN_MATCH_SCORE else None
    if product is None:
        return None
    amount = float(found.group(1).replace(",", "."))
    fit = fit_product(amount, found.group(2), product)
    if fit.reason == PACK_CONVERSION:
        return MatchedLine(parsed=replace(line, phrase=rest), candidate=None, runner_up=candidates[0], quantity=amount,
                           counted=True, confidence=0.0, reasons=(PACK_CONVERSION,))
    if fit.quantity == amount:  # not converted: the amount names a size ("2 litros de coca"), as before
        return None
    return match_line(replace(line, phrase=rest, quantity=fit.quantity, unit=None), matcher, catalog)


def match_line(line: ParsedLine, matcher: Matcher, catalog: Catalog) -> MatchedLine:
    if line.quantity is None and line.measure in AMOUNT_MEASURES:
        converted = _leading_amount(line, matcher, catalog)
        if converted is not None:
            return converted
    found = matcher.candidates(line.phrase, limit=CANDIDATES_CONSIDERED)
    if found and _names_another_size(line, found[0], catalog):
        # "sprite de 2 litros" when only 600 ml exists: another candidate of that size, or no match
        fitting = [c for c in found[1:] if not _names_another_size(line, c, catalog)]
        if not fitting or fitting[0].score < MIN_MATCH_SCORE:
            return MatchedLine(parsed=line, candidate=None, runner_up=found[0], quantity=line.quantity or
                               IMPLICIT_QUANTITY, counted=line.quantity is not None, confidence=0.0,
                               reasons=("unmatched", SIZE_MISMATCH))
        found = fitting
    best = found[0] if found and found[0].score >= MIN_MATCH_SCORE else None
    runner_up = found[1] if len(found) > 1 else None
    counted = line.quantity is not None
    quantity = line.quantity if line.quantity is not None else IMPLICIT_QUANTITY
    reasons: list[str] = []
    if best is None:
        return MatchedLine(parsed=line, candidate=None, runner_up=found[0] if found else None, quantity=quantity,
                           counted=counted, confidence=0.0, reasons=("unmatched",))
    confidence = best.score
    exact = best.score >= 1.0
    if runner_up is not None and (
        (exact and runner_up.score >= 1.0) or (not exact and runner_up.score >= best.score - AMBIGUITY_MARGIN)
    ):
        confidence = min(confidence, AMBIGUOUS_CONFIDENCE_CAP)
        reasons.append("ambiguous")
    if not counted:
        confidence *= IMPLICIT_QUANTITY_CERTAINTY
        reasons.append("no_quantity")
    product = catalog.by_sku(best.sku)
    if product is not None:
        fit = fit_product(quantity, line.unit, product, counted=counted and not _elided_pack(line))
        if fit.reason == PACK_CONVERSION:  # kept for a person, without a product: no pack count is right
            return MatchedLine(parsed=line, candidate=None, runner_up=best, quantity=quantity, counted=counted,
                               confidence=0.0, reasons=(PACK_CONVERSION,))
        quantity = fit.quantity
        confidence *= fit.certainty
        if fit.reason:
            reasons.append(fit.reason)
    if quantity <= 0:
        reasons.append("bad_quantity")
        confidence = 0.0
    if confidence < REVIEW_CONFIDENCE:
        reasons.append("low_confidence")
    return MatchedLine(parsed=line, candidate=best, runner_up=runner_up, quantity=quantity, counted=counted,
                       confidence=round(max(0.0, min(confidence, 1.0)), 4), reasons=tuple(reasons))


def _correct(out: list[MatchedLine], line: ParsedLine, matcher: Matcher, catalog: Catalog) -> None:
    """A self-correction that names its product ("wait, make the tomatoes 3", "digo, 6 botellas").

    It replaces the earlier line of the same product, where that line stood; when no earlier line
    has its product, it replaces the line just before it, whose count it keeps if it gives none.
    """
    matched = match_line(line, matcher, catalog)
    same = next((k for k in range(len(out) - 1, -1, -1)
                 if matched.sku is not None and out[k].sku == matched.sku), None)
    replaced = out[same] if same is not None else out.pop()
    if line.quantity is None or (line.unit is None and same is not None):
        quantity = replaced.parsed.quantity if line.quantity is None else line.quantity
        line = replace(line, quantity=quantity, unit=line.unit or replaced.parsed.unit)
        matched = match_line(line, matcher, catalog)
    if same is not None:
        out[same] = matched
    else:
        out.append(matched)


def match_lines(lines: Sequence[ParsedLine], matcher: Matcher, catalog: Catalog) -> list[MatchedLine]:
    prepared = [_trailing_count(_trim_tail(line, matcher), matcher) for line in _rejoin(lines, matcher)]
    out: list[MatchedLine] = []
    for line in prepared:
        if line.corrects and out:
            _correct(out, line, matcher, catalog)
        else:
            out.append(match_line(line, matcher, catalog))
    return out


__all__ = ["REVIEW_CONFIDENCE", "MatchedLine", "match_line", "match_lines"]
