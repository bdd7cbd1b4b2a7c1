"""What a message does to the customer's orders, read with rules and the conversation lexicon.

The offline analyzer finds the lines of a message; this module reads the rest of what a clerk
hears in it (ai/lexicon/<lang>/conversation.toml, all languages at once, since customers mix
them): a cancellation, a closer ("ya con eso"), a confirmation ("sí", a confirm button), "the
usual", an opener of a separate order, removals ("sin el jabón") and whether each line adds to or
sets the quantity of a product already in the order it applies to. The order it applies to is
the open order (a change) or the last order ("the usual"), both given by the worker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from ai.analyzer import AnalysisRequest, RecentOrderLine
from ai.contract import Intent, Line, LineOp, OrderAction
from ai.lexicon import LANGUAGES, words, words_all
from ai.matching.matcher import Matcher
from ai.text import fold

TOPIC = "conversation"
REMOVE_MIN_SCORE = 0.55  # a product named after a removal marker must match one in the order this well
REMOVE_CONFIDENCE = 0.9  # how sure a removal of a product that is in the order is
PREFER_BASE_MARGIN = 0.3  # a product of the order wins over a better-scored stranger within this margin
RETRY_MIN_SCORE = 0.75  # an unmatched line matched again without its correction tail must match this well
REMOVE_MAX_WORDS = 4  # a removed product is named in at most this many words after the marker
MAX_CUE_WORDS = 8  # the longest cue phrase, in words
GRAMS_CACHE_SIZE = 512  # normalised texts whose word runs stay computed
_NON_WORD = re.compile(r"[^\w#]+")
_COUNT = re.compile(r"\b\d+\b")


def normalise(text: str) -> str:
    """Folded, punctuation as spaces, single spaces, padded: phrases match as " phrase "."""
    return " " + " ".join(_NON_WORD.sub(" ", fold(text)).split()) + " "


@cache
def cues(key: str, lang: str | None = None) -> tuple[str, ...]:
    """A cue list, normalised, longest first (so "sin el" wins over "sin"): of one language, or
    of every language (lang None) for cues that short messages carry ("sí", "ok", "sim")."""
    found = {normalise(phrase).strip() for phrase in (words(lang, TOPIC, key) if lang else words_all(TOPIC, key))}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


@cache
def cue_tokens(key: str) -> frozenset[str]:
    return frozenset(token for phrase in cues(key) for token in phrase.split())


@cache
def cue_set(key: str, lang: str | None = None) -> frozenset[str]:
    return frozenset(cues(key, lang))


@lru_cache(maxsize=GRAMS_CACHE_SIZE)
def grams(norm: str) -> frozenset[str]:
    """Every run of up to MAX_CUE_WORDS words of a normalised text: a cue is present when one is a cue."""
    words = norm.split()
    return frozenset(" ".join(words[i:j]) for i in range(len(words))
                     for j in range(i + 1, min(i + MAX_CUE_WORDS, len(words)) + 1))


def has_cue(norm: str, key: str, lang: str | None = None) -> bool:
    """Whether the message carries a cue; language-specific when the words are ambiguous across
    languages (Portuguese "mas" is "but", Spanish "más" is "more")."""
    return not grams(norm).isdisjoint(cue_set(key, lang if lang in LANGUAGES else None))


def without_closers(norm: str) -> str:
    for phrase in cues("closer"):
        norm = norm.replace(f" {phrase} ", " ")
    return norm


def is_confirmation(text: str) -> bool:
    """The whole message is a confirmation ("sí", "ok gracias", "confirmo 👍"), and nothing else;
    a closer alone ("só isso", "that's all") is not one, a confirmation with a closer is."""
    stripped = text.strip()
    symbols = [phrase for phrase in words_all(TOPIC, "confirm") if not any(ch.isalnum() for ch in phrase)]
    if stripped and not any(ch.isalnum() for ch in stripped):
        return any(symbol in stripped for symbol in symbols)
    norm, phrases = without_closers(normalise(text)), 0
    for phrase in cues("confirm"):
        if " " in phrase and f" {phrase} " in norm:
            norm, phrases = norm.replace(f" {phrase} ", " "), phrases + 1
    tokens = [t for t in norm.split() if t not in cue_tokens("filler")]
    single = {phrase for phrase in cues("confirm") if " " not in phrase}
    return bool(tokens or phrases) and all(t in single or t.startswith("confirm") for t in tokens)


def prefer_base(line: Line, base_skus: set[str], matcher: Matcher) -> Line:
    """ "8 de agua" after an order with Agua Ciel 1 L means that water: among the line's close
    candidates, a product of the order it applies to wins (a clerk reads it the same way)."""
    if not base_skus or line.sku in base_skus:
        return line
    candidates = matcher.candidates(line.text, limit=8)
    if not candidates:
        return line
    floor = max(REMOVE_MIN_SCORE, candidates[0].score - PREFER_BASE_MARGIN)
    for candidate in candidates:
        if candidate.score < floor:
            break
        if candidate.sku in base_skus:
            return line.model_copy(update={"sku": candidate.sku, "confidence": max(line.confidence, candidate.score),
                                           "evidence": f"{line.evidence}; product of the order"[:200]})
    return line


def opener_only(text: str) -> bool:
    """An unmatched "line" that is only the opener of another order ("otro pedido para el local")."""
    norm = normalise(text)
    if _COUNT.search(norm) or not norm.split():
        return False
    words = cue_tokens("separate") | cue_tokens("usual")
    return has_cue(norm, "separate") or has_cue(norm, "usual") or all(t in words for t in norm.split())


def aside_only(text: str) -> bool:
    """A "line" that is only a discourse marker ("otra cosa", "one more thing") taken for a product."""
    norm = normalise(text)
    return not _COUNT.search(norm) and bool(norm.split()) and all(t in cue_tokens("asides") for t in norm.split())


def without_instead_tail(line: Line, matcher: Matcher) -> Line:
    """ "1 sack of onions not 2": an unmatched line ending in a correction tail is matched without it."""
    if line.sku is not None:
        return line
    norm = normalise(line.text)
    for tail in cues("instead_tail"):
        cut = re.match(rf"^ (.+?) {re.escape(tail)} \d+(?: \w+)? $", norm)
        if cut is None:
            continue
        candidate = matcher.best(cut.group(1))
        if candidate is not None and candidate.score >= RETRY_MIN_SCORE:
            return line.model_copy(update={"sku": candidate.sku, "confidence": candidate.score,
                                           "evidence": f"{candidate.method} without the correction tail"[:200]})
    return line


def line_context(norm: str, lines: Sequence[Line]) -> list[str]:
    """For each line, the message from the end of the previous line to the end of this one: the
    words that say whether it adds ("2 more") or sets ("only 1 jug")."""
    out: list[str] = []
    start = 0
    for line in lines:
        text = normalise(line.text).strip()
        at = norm.find(text, start) if text else -1
        if at < 0:
            out.append(norm)
            continue
        end = at + len(text)
        out.append(" " + norm[start:end].strip() + " ")
        start = end
    return out


@dataclass(frozen=True, kw_only=True)
class Reading:
    action: OrderAction
    closes_order: bool
    lines: tuple[Line, ...]
    intent: Intent


def removal_phrases(norm: str) -> list[str]:
    """The words after each removal marker, split on joiners: product names to take out."""
    joiners = cues("joiners")
    phrases: list[str] = []
    for marker in cues("remove"):
        start = norm.find(f" {marker} ")
        while start >= 0:
            tail = norm[start + len(marker) + 2:]
            pieces = [tail]
            for joiner in joiners:
                pieces = [part for piece in pieces for part in f" {piece} ".split(f" {joiner} ")]
            # the first product, and the ones joined to it ("sin el jabón ni el cloro")
            for piece in pieces[:3]:
                words = [w for w in piece.split() if not w.isdigit()][:REMOVE_MAX_WORDS]
                # "sin el cloralex, todavía me queda": the product is the first words, however many follow
                phrases.extend(" ".join(words[:n]) for n in range(len(words), 0, -1))
            start = norm.find(f" {marker} ", start + 1)
    return phrases


def removals(norm: str, base: Sequence[RecentOrderLine], matcher: Matcher, kept_text: str) -> list[str]:
    """SKUs of the base order that the message takes out."""
    if not base:
        return []
    in_base = {item.sku for item in base}
    found: list[str] = []
    for phrase in removal_phrases(norm):
        if f" {phrase} " in kept_text:  # part of a line the message asks for ("coca sin azúcar")
            continue
        for candidate in matcher.candidates(phrase, limit=8):
            if candidate.score < REMOVE_MIN_SCORE:
                break
            if candidate.sku in in_base:
                if candidate.sku not in found:
                    found.append(candidate.sku)
                break
    return found


def read_conversation(
    *,
    text: str,
    intent: Intent,
    lines: Sequence[Line],
    open_order: Sequence[RecentOrderLine],
    last_order: Sequence[RecentOrderLine],
    matcher: Matcher,
    button: bool = False,
    open_order_recent: bool = True,
    language: str | None = None,
) -> Reading:
    """The order-level action, the closer flag and each line's operation for one message."""
    norm = normalise(text)
    closes = has_cue(norm, "closer")
    if (button or not lines) and is_confirmation(text):
        return Reading(action=OrderAction.CONFIRM, closes_order=closes, lines=(), intent=Intent.OTHER)
    usual = has_cue(norm, "usual") and bool(last_order or intent in {Intent.ORDER, Intent.ORDER_CHANGE})
    base = last_order if usual else open_order
    kept_text = " ".join(normalise(line.text) for line in lines if line.sku)
    removed = removals(norm, base, matcher, kept_text)
    base_skus = {item.sku for item in base}
    restates = usual or open_order_recent or has_cue(norm, "set", language)
    out: list[Line] = []
    for line, context in zip(lines, line_context(norm, lines), strict=True):
        if (line.sku is None and opener_only(line.text)) or aside_only(line.text):
            continue
        line = prefer_base(without_instead_tail(line, matcher), base_skus, matcher)
        if line.sku is not None and line.sku in removed:
            continue
        more = has_cue(context, "more", language)
        op = LineOp.SET if line.sku in base_skus and restates and not more else LineOp.ADD
        out.append(line.model_copy(update={"op": op}))
    out.extend(Line(op=LineOp.REMOVE, text=sku, quantity=0.0, unit=None, sku=sku, confidence=REMOVE_CONFIDENCE,
                    evidence="removal marker") for sku in removed)
    if usual:
        return Reading(action=OrderAction.REPEAT_LAST, closes_order=closes, lines=tuple(out), intent=Intent.ORDER)
    if not out and has_cue(norm, "cancel") and intent != Intent.ORDER_CHANGE:  # "cancela las papas": a removal
        return Reading(action=OrderAction.CANCEL, closes_order=False, lines=(), intent=Intent.ORDER_CANCEL)
    if out and has_cue(norm, "separate"):
        adds = tuple(line.model_copy(update={"op": LineOp.ADD}) for line in out if line.op != LineOp.REMOVE)
        return Reading(action=OrderAction.NEW, closes_order=closes, lines=adds, intent=Intent.ORDER)
    changes = removed or any(line.op == LineOp.SET for line in out)
    if out and (changes or (open_order and (has_cue(norm, "followup", language) or has_cue(norm, "set", language)))):
        adding = any(line.op == LineOp.ADD for line in out)
        return Reading(action=OrderAction.CHANGE, closes_order=closes, lines=tuple(out),
                       intent=Intent.ORDER if adding else Intent.ORDER_CHANGE)
    if out:
        return Reading(action=OrderAction.NONE, closes_order=closes, lines=tuple(out),
                       intent=intent if intent in {Intent.ORDER, Intent.ORDER_CHANGE} else Intent.ORDER)
    return Reading(action=OrderAction.NONE, closes_order=closes, lines=(), intent=intent)





def renumbered_line_reasons(reasons: Sequence[str], original: Sequence[Line], lines: Sequence[Line]) -> list[str]:
    """The analyzer's per-line reasons ("unmatched:line:2") for the lines the reading kept as they
    were, numbered as they are now; a line matched again or dropped loses its old reason."""
    now = {(line.text, line.sku): number for number, line in enumerate(lines, start=1)}
    out: list[str] = []
    for reason in reasons:
        kind, _, number = reason.partition(":line:")
        if not number.isdigit() or not 0 < int(number) <= len(original):
            continue
        line = original[int(number) - 1]
        if (line.text, line.sku) in now:
            out.append(f"{kind}:line:{now[(line.text, line.sku)]}")
    out += [f"unmatched:line:{n}" for n, line in enumerate(lines, start=1)
            if line.sku is None and f"unmatched:line:{n}" not in out]
    return out


def handled_reasons(reasons: Sequence[str], reading: Reading, request: AnalysisRequest,
                    original: Sequence[Line] = ()) -> list[str]:
    """Review reasons the conversation now handles itself: a change or cancellation of an open
    order, a repeat of a known last order, lines that only confirm or remove."""
    handled: set[str] = set()
    if request.open_order and reading.action in {OrderAction.CHANGE, OrderAction.CANCEL, OrderAction.NONE}:
        handled |= {"order_change", "order_cancel"}
    if reading.action == OrderAction.REPEAT_LAST and request.last_order:
        handled |= {"repeat_order", "no_matched_lines", "order_change"}
    if reading.action in {OrderAction.CONFIRM, OrderAction.CANCEL} or (
        reading.lines and all(line.op == LineOp.REMOVE for line in reading.lines)
    ):
        handled |= {"no_matched_lines"}
    if reading.action == OrderAction.CONFIRM:
        return []
    if any(line.sku is not None for line in reading.lines):
        handled.add("no_matched_lines")
    kept = [r for r in reasons if r not in handled and ":line:" not in r]
    kept += renumbered_line_reasons(reasons, original, reading.lines)
    if reading.action == OrderAction.REPEAT_LAST and not request.last_order and "repeat_order_without_history" not in kept:
        kept.append("repeat_order_without_history")
    return kept


__all__ = [
    "Reading", "aside_only", "cues", "handled_reasons", "has_cue", "is_confirmation", "line_context", "normalise",
    "opener_only", "prefer_base", "read_conversation", "removals", "renumbered_line_reasons", "without_closers",
    "without_instead_tail",
]
