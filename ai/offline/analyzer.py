"""The offline analyzer: rules, vocabularies and the catalog matcher, no network, no cost.

Deterministic: the same message and catalog always give the same analysis. It fills the
same contract as the OpenAI analyzer, so the rest of the pipeline cannot tell them apart,
and reports approximate token counts so that volumes still show in the usage ledger.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict

from ai.analyzer import AnalysisRequest, AnalysisResult, Usage
from ai.catalog import Catalog
from ai.contract import Analysis, Intent, Line, LineOp
from ai.language import LANGUAGES, detect_language
from ai.matching.codes import CodeLine, blank_codes, find_codes
from ai.matching.lines import IMPLICIT_QUANTITY, IMPLICIT_QUANTITY_CERTAINTY, MatchedLine, match_lines
from ai.matching.matcher import Candidate, Matcher
from ai.offline.conversation import handled_reasons, read_conversation
from ai.offline.dates import resolve_delivery
from ai.offline.intent import SentenceCues, decide_intent, message_cues
from ai.offline.lines import ParsedLine, Sentence, parse_lines, split_sentences
from ai.offline.pack_units import PACK_CONVERSION, PACK_WORDS
from ai.offline.quantities import AMOUNT_MEASURES
from ai.offline.replies import compose_reply
from ai.text import fold

REPEAT_CONFIDENCE = 0.7  # lines copied from the last order: a person confirms them
REPEAT_TEXT_CHARS = 80  # how much of the message a repeated line quotes as its text
UNCOUNTED_MIN_SCORE = 0.8  # a product named without a count is an order line only if it matches this well
CHARS_PER_TOKEN = 4  # rough tokenizer ratio for the usage ledger
MATCHER_CACHE_SIZE = 32  # catalogs whose matcher stays built
ORDER_INTENTS = frozenset({Intent.ORDER, Intent.ORDER_CHANGE})
INTENT_REVIEW: dict[Intent, str] = {
    Intent.COMPLAINT: "complaint",
    Intent.ORDER_CANCEL: "order_cancel",
    Intent.ORDER_CHANGE: "order_change",
}


def approx_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN)) if text else 0


def _names_something(phrase: str) -> bool:
    """The phrase has a word that is not a pack word ("3 cajas" alone names nothing)."""
    return any(len(w) > 1 and w not in PACK_WORDS for w in fold(phrase).split())


def _default_language(request: AnalysisRequest) -> str:
    if request.customer_language in LANGUAGES:
        return request.customer_language
    locale = request.catalog.locale[:2].lower()
    return locale if locale in LANGUAGES else "es"


def _orders_something(kept: list[MatchedLine], cues: list[SentenceCues]) -> bool:
    """A matched product, or an order verb in a sentence with a line (then a person sees the unmatched ones)."""
    ordering = {c.index for c in cues if c.order}
    return any(m.candidate is not None or _unconverted(m) or m.parsed.sentence in ordering for m in kept)


def _unconverted(m: MatchedLine) -> bool:
    """ "4 gal of fry oil" against a 35 lb jug: a product named, with a count no pack holds; for a person."""
    return m.candidate is None and m.runner_up is not None and PACK_CONVERSION in m.reasons


def select_order_lines(matched: list[MatchedLine], cues: list[SentenceCues]) -> list[MatchedLine]:
    """The matched lines that are order lines, given what each sentence is."""
    by_index = {c.index: c for c in cues}
    verb_anywhere = any(c.order and c.orderable for c in cues)
    doubtful = any(c.question or c.price or c.complaint or c.cancel for c in cues)
    list_only = bool(matched) and not doubtful and all(
        m.candidate is not None and m.candidate.score >= UNCOUNTED_MIN_SCORE for m in matched
    )
    counted_sentences = {m.parsed.sentence for m in matched if m.counted and m.candidate is not None}
    kept: list[MatchedLine] = []
    for m in matched:
        cue = by_index.get(m.parsed.sentence)
        if cue is None:
            continue
        if m.counted and m.candidate is not None and cue.counted_orderable:
            kept.append(m)
        elif not cue.orderable:
            continue
        elif m.counted:
            if m.candidate is not None or cue.order or _unconverted(m) or _names_something(m.parsed.phrase):
                kept.append(m)
        elif m.candidate is not None and m.candidate.score >= UNCOUNTED_MIN_SCORE and (
            cue.order or verb_anywhere or list_only or m.parsed.sentence in counted_sentences
        ):
            kept.append(m)
    return _drop_mentions(kept, by_index)


def _drop_mentions(kept: list[MatchedLine], by_index: dict[int, SentenceCues]) -> list[MatchedLine]:
    """ "We're out of flour! 2 bags AP flour": a product named without a count in a sentence that
    asks for nothing is only a mention when a counted line orders the same product."""
    counted_skus = {m.sku for m in kept if m.counted and m.sku is not None}
    if not counted_skus:
        return kept
    return [
        m for m in kept
        if m.counted or m.sku not in counted_skus or by_index[m.parsed.sentence].order
    ]


def rescue_dropped_lines(
    matched: list[MatchedLine], kept: list[MatchedLine], cues: list[SentenceCues]
) -> list[MatchedLine]:
    """Safety net for an order: a fragment with an amount and product words never disappears.

    A line left out by `select_order_lines` that has a count or leading measure ("2 litros de
    leche", "can you add 3 cases of xyz?") comes back without a product, for a person to see.
    Fragments in complaint, cancel, price or availability sentences stay out: they are not lines.
    """
    by_index = {c.index: c for c in cues}
    kept_ids = {id(m) for m in kept}
    out: list[MatchedLine] = []
    for m in matched:
        if id(m) in kept_ids:
            out.append(m)
            continue
        cue = by_index.get(m.parsed.sentence)
        if cue is None or not (cue.orderable or cue.counted_orderable):
            continue
        if (m.counted or m.parsed.measure in AMOUNT_MEASURES) and _names_something(m.parsed.phrase):
            quantity = m.parsed.quantity if m.parsed.quantity is not None else IMPLICIT_QUANTITY
            out.append(MatchedLine(parsed=m.parsed, candidate=None, runner_up=m.candidate or m.runner_up,
                                   quantity=quantity, counted=m.counted, confidence=0.0, reasons=("unmatched",)))
    return out


def _with_code_lines(matched: list[MatchedLine], codes: list[CodeLine], text: str, sentences: list[Sentence],
                     catalog: Catalog) -> list[MatchedLine]:
    """Code lines as matched lines, each in the sentence where it stood, before the other lines of it."""
    out: list[MatchedLine] = []
    for code in codes:
        sentence = next((s.index for s in sentences if s.start <= code.start < max(s.end, s.start + 1)), None)
        product = catalog.by_sku(code.sku)
        if sentence is None or product is None:
            continue
        counted = code.quantity is not None
        quantity = code.quantity if code.quantity is not None else IMPLICIT_QUANTITY
        parsed = ParsedLine(text=text[code.start : code.end], quantity=code.quantity, unit=None, phrase=code.sku,
                            sentence=sentence)
        candidate = Candidate(sku=code.sku, name=product.name, score=1.0, method="sku_exact")
        out.append(MatchedLine(parsed=parsed, candidate=candidate, runner_up=None,
                               quantity=quantity, counted=counted,
                               confidence=1.0 if counted else IMPLICIT_QUANTITY_CERTAINTY,
                               reasons=() if counted else ("no_quantity", "low_confidence")))
    return sorted([*out, *matched], key=lambda m: m.parsed.sentence)


class OfflineAnalyzer:
    """Satisfies ai.analyzer.Analyzer."""

    provider = "offline"
    model = "offline-rules-v1"
    prompt_version = "offline-1"
    paid = False
    reads_orders = True

    def __init__(self) -> None:
        self._matchers: OrderedDict[int, tuple[Catalog, Matcher]] = OrderedDict()

    def matcher(self, catalog: Catalog) -> Matcher:
        """The catalog's matcher, built once (the catalog object is the cache key)."""
        key = id(catalog)
        cached = self._matchers.get(key)
        if cached is not None and cached[0] is catalog:
            self._matchers.move_to_end(key)
            return cached[1]
        matcher = Matcher(catalog)
        self._matchers[key] = (catalog, matcher)
        while len(self._matchers) > MATCHER_CACHE_SIZE:
            self._matchers.popitem(last=False)
        return matcher

    def analyze_text(self, request: AnalysisRequest) -> Analysis:
        catalog = request.catalog
        text = request.text
        language = detect_language(text, default=_default_language(request))
        codes = find_codes(text, catalog)  # "CC-600-24 x 7": an exact code wins over any other reading
        if codes:
            text = blank_codes(text, codes)
        sentences = split_sentences(text)  # scrubbed and split once for the cues and the parser
        cues = message_cues(text, sentences)
        matched = match_lines(parse_lines(text, language, sentences, defer_corrections=True), self.matcher(catalog),
                              catalog)
        if codes:
            matched = _with_code_lines(matched, codes, request.text, sentences, catalog)
        kept = select_order_lines(matched, cues)
        intent = decide_intent(cues, {m.parsed.sentence for m in kept})
        if kept and not _orders_something(kept, cues):
            kept = []  # "CNPJ 12.345.678/0001-95": lines that match nothing, with no order verb, are no order
            intent = decide_intent(cues, set())
        if intent not in ORDER_INTENTS:
            kept = []
        elif len(kept) < len(matched):
            kept = rescue_dropped_lines(matched, kept, cues)
        reasons = [f"{reason}:line:{number}" for number, m in enumerate(kept, start=1) for reason in m.reasons]
        if intent in ORDER_INTENTS and not any(m.candidate is not None for m in kept):
            reasons.append("no_matched_lines")
        if intent in INTENT_REVIEW:
            reasons.append(INTENT_REVIEW[intent])
        lines = [
            Line(op=LineOp.ADD, text=m.parsed.text, quantity=m.quantity, unit=m.parsed.unit, sku=m.sku,
                 confidence=m.confidence, evidence=m.evidence())
            for m in kept
        ]
        if intent in ORDER_INTENTS and not kept and any(c.repeat for c in cues):
            # with the last order known the worker copies it and the lines are the message's changes
            lines = [] if request.last_order else self._repeat_lines(request)
            reasons = [r for r in reasons if r != "no_matched_lines"]
            reasons.append("repeat_order" if lines or request.last_order else "repeat_order_without_history")
        reading = read_conversation(text=text, intent=intent, lines=lines, open_order=request.open_order,
                                    last_order=request.last_order, matcher=self.matcher(catalog),
                                    button=request.message_kind in {"button", "interactive"},
                                    open_order_recent=request.open_order_recent, language=language)
        reasons = handled_reasons(reasons, reading, request, lines)
        intent, lines = reading.intent, list(reading.lines)
        delivery = resolve_delivery(text, language, request.now, catalog.timezone)
        needs_review = bool(reasons)
        reply = compose_reply(intent=intent, lines=lines, delivery=delivery, needs_review=needs_review,
                              catalog=catalog, language=language)
        return Analysis(
            intent=intent, action=reading.action, closes_order=reading.closes_order, language=language, lines=lines, delivery=delivery,
            needs_review=needs_review, review_reasons=reasons, reply=reply,
        )

    @staticmethod
    def _repeat_lines(request: AnalysisRequest) -> list[Line]:
        """ "Lo mismo de siempre": the customer's most recent order, for a person to confirm."""
        if not request.recent_orders:
            return []
        return [
            Line(op=LineOp.ADD, text=request.text.strip()[:REPEAT_TEXT_CHARS], quantity=item.quantity, unit=None, sku=item.sku,
                 confidence=REPEAT_CONFIDENCE, evidence="repeat of the most recent order")
            for item in request.recent_orders[0]
            if request.catalog.by_sku(item.sku) is not None
        ]

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        started = time.perf_counter()
        analysis = self.analyze_text(request)
        await asyncio.sleep(0)  # stay a good citizen of the event loop between messages
        latency_ms = (time.perf_counter() - started) * 1000.0
        raw = analysis.model_dump(mode="json")
        usage = Usage(
            provider=self.provider,
            model=self.model,
            input_tokens=approx_tokens(request.text),
            output_tokens=approx_tokens(analysis.model_dump_json()),
        )
        return AnalysisResult(analysis=analysis, usage=usage, latency_ms=latency_ms,
                              prompt_version=self.prompt_version, raw=raw)


__all__ = ["OfflineAnalyzer", "approx_tokens", "rescue_dropped_lines", "select_order_lines"]
