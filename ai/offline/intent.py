"""What a message wants: order, question, complaint, cancellation, change or nothing in particular.

Cues are read per sentence on folded text, in all three languages at once (customers mix
them). The decision (`decide_intent`) also needs to know which sentences carry product lines,
which the analyzer finds with the parser and the matcher: a sentence with counted products
that is not a question, complaint or cancellation is an order, even without an order verb.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ai.contract import Intent
from ai.lexicon import words_all
from ai.offline.lines import Sentence, split_sentences
from ai.text import fold


def _alternation(key: str) -> str:
    return "|".join(words_all("intent", key))


def _words(key: str) -> re.Pattern[str]:
    """The patterns of every language under `key` (lexicon intent.toml), each as a whole word."""
    return re.compile(r"\b(?:" + _alternation(key) + r")\b")


ORDER_VERBS = _words("order_verbs")
ORDER_HEADER = re.compile(rf"^\s*(?:(?:{_alternation('order_header_new')})\s+)?(?:{_alternation('order_header')})\b")
QUESTION_START = re.compile(
    rf"^\s*(?:(?:{_alternation('greetings')})\W+)*(?:{_alternation('question_start')})\b"
)
PRICE = _words("price")
# An amount of money: in a question without an order verb it asks a price ("still $118 a case?").
MONEY = re.compile(rf"(?:{_alternation('currency')})\s?\d|\d(?:[.,]\d+)?\s?(?:{_alternation('money_words')})\b")
COMPLAINT = _words("complaint")
# "Lo mismo de siempre", "the usual", "o mesmo da semana passada": repeat a previous order.
REPEAT = _words("repeat")
# Asking whether something is in stock: a question even with counts ("tienen 10 cajas de coca?").
AVAILABILITY = re.compile(rf"\b(?:{_alternation('availability')})|\b(?:{_alternation('future_availability')})\b")
# How often, not what to send ("se venden 8 cajas por semana"): without an order verb, no order.
FREQUENCY = _words("frequency")
# An order already placed ("las 5 rejas que pedí ayer", "yesterday's order"): a question about it is no order.
PREVIOUS_ORDER = _words("previous_order")
# Removing a product ("sin los refrescos", "take off the bacon", "tira o arroz"): a change to the order.
# ... unless what it removes is the order itself ("cancela o pedido de ontem"): then it cancels.
REMOVAL = re.compile(r"\b(?:" + "|".join(words_all("clauses", "removal")) + r")\b"
                     rf"(?!\s+(?:\w+\s+)?(?:{_alternation('order_header')})\b)")
# A report on a past delivery ("ya llegó", "we received", "chegou tudo"): not an order by itself.
DELIVERED = _words("delivered")
CANCEL = _words("cancel")
CHANGE = _words("change")


@dataclass(frozen=True, kw_only=True)
class SentenceCues:
    index: int
    order: bool  # an order verb or an order header ("Pedido:")
    question: bool
    price: bool
    complaint: bool
    cancel: bool
    change: bool
    delivered: bool  # talks about a delivery that already happened
    repeat: bool = False  # asks for the same as a previous order
    availability: bool = False  # asks whether something is in stock
    habitual: bool = False  # says how much they use per week or month, without an order verb
    status: bool = False  # asks about an order already placed

    @property
    def orderable(self) -> bool:
        """Lines in this sentence can be order lines: not a complaint/cancel, not a bare question."""
        if self.complaint or self.cancel or self.price or self.habitual or self.status:
            return False
        return not (self.question or self.delivered) or self.order

    @property
    def counted_orderable(self) -> bool:
        """Counted products make an order here: "can you do 2 cases of lids?" is a request, not a question."""
        if self.complaint or self.cancel or self.price or self.availability or self.habitual or self.status:
            return False
        return self.order or not self.delivered


def sentence_cues(sentence: Sentence, raw: str = "") -> SentenceCues:
    """`raw`: the sentence as written, prices included (`sentence.text` has them blanked out)."""
    text = fold(sentence.text)
    order = bool(ORDER_VERBS.search(text) or (sentence.index == 0 and ORDER_HEADER.search(text)))
    question = "?" in sentence.terminator or "¿" in sentence.text or bool(QUESTION_START.search(text))
    return SentenceCues(
        index=sentence.index,
        order=order,
        question=question,
        price=bool(PRICE.search(text)) or (question and bool(MONEY.search(fold(raw))) and not order),
        complaint=bool(COMPLAINT.search(text)),
        cancel=bool(CANCEL.search(REMOVAL.sub(" ", text))),  # "cancela os copos" removes a product
        change=bool(CHANGE.search(text) or REMOVAL.search(text)),
        delivered=bool(DELIVERED.search(text)),
        repeat=bool(REPEAT.search(text)),
        availability=bool(AVAILABILITY.search(text)),
        habitual=not order and bool(FREQUENCY.search(text)),
        status=question and not order and bool(PREVIOUS_ORDER.search(text)),
    )


def message_cues(text: str, sentences: Sequence[Sentence] | None = None) -> list[SentenceCues]:
    """Cues of each sentence; `sentences`: split_sentences(text) when the caller already has them."""
    return [sentence_cues(s, text[s.start : s.end]) for s in (split_sentences(text) if sentences is None else sentences)]


def decide_intent(cues: Sequence[SentenceCues], order_sentences: set[int]) -> Intent:
    """The message intent, given which sentences carry order lines."""
    verb_order = any(c.order and c.index in order_sentences and not c.complaint for c in cues)
    if any(c.cancel for c in cues) and not verb_order:
        return Intent.ORDER_CANCEL
    if any(c.complaint for c in cues) and not verb_order:
        return Intent.COMPLAINT
    if order_sentences and (verb_order or not any(c.change for c in cues)):
        return Intent.ORDER  # what it adds, even beside a change ("add 3 cases of wings and take off the bacon")
    if order_sentences:
        return Intent.ORDER_CHANGE  # "cambia las 3 cajas de coca por sprite"
    if any(c.repeat and (c.orderable or c.question) for c in cues):
        return Intent.ORDER_CHANGE if any(c.change for c in cues) else Intent.ORDER
    if any(c.change and not c.question for c in cues):
        return Intent.ORDER_CHANGE  # "quítame los takis del pedido": a change to an order already placed
    if any(c.question or c.price for c in cues):
        return Intent.QUESTION
    return Intent.OTHER


__all__ = ["SentenceCues", "decide_intent", "message_cues", "sentence_cues"]
