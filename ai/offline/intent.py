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
from ai.offline.lines import Sentence, split_sentences
from ai.text import fold


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


ORDER_VERBS = _words(
    # es
    r"mand(?:a|ame|anos|as|an|ar|arme|e|eme|en)", r"envi(?:a|ame|anos|as|ar|e|en)", r"necesit(?:o|amos|aria|ariamos)",
    r"ocup(?:o|amos)", r"quier(?:o|e)", r"queremos", r"quisiera(?:mos)?", r"apunt(?:a|ame|as|en|ar)",
    r"anot(?:a|ame|as|en|ar)", r"agreg(?:a|ame|as|ar|uen|ale)", r"anad(?:e|eme|ir)", r"suma(?:le|me)",
    r"pon(?:me|le|ga|gan)", r"pido", r"pedimos", r"tra(?:e|eme|igan|iga)", r"surt(?:e|eme|ir)", r"d(?:ame|eme|enme)",
    r"me (?:das|da|dan|regalas|vendes)", r"nuevo pedido", r"pas(?:ame|enme)", r"ech(?:ame|enme)",
    r"(?:me|nos) (?:pasas|pasan|echas|echan)",
    # a request put as a question: "me llevas 20 garrafones?", "me puedes traer ...?"
    r"(?:me|nos) (?:llevas|lleva|llevan|traes|traen)",
    r"(?:puedes|puede|pueden|podrias|podria|podrian) (?:me |nos )?"
    r"(?:traer|llevar|mandar|enviar|surtir|apartar)(?:me|nos)?",
    # en
    r"send", r"need", r"needs", r"want", r"can (?:i|we) (?:get|have|order)", r"could (?:i|we) (?:get|have|order)",
    r"(?:i|we)(?:ll| will) (?:take|have|need)", r"(?:id|wed|i would|we would) like", r"would like", r"add",
    r"order(?:ing)? (?:for|of)", r"put (?:me|us) down", r"get me", r"bring", r"restock", r"gimme", r"give me",
    r"new order", r"(?:like|want) to order",
    # pt
    r"mand(?:a|e|ar)", r"envi(?:a|e|ar)", r"precis(?:o|amos)", r"quer(?:o|emos|ia)", r"gostaria",
    r"coloc(?:a|ar|e)", r"adicion(?:a|ar|e)", r"acrescent(?:a|ar|e)", r"anot(?:a|e)", r"separ(?:a|e)", r"tra(?:z|ga)",
    r"me ve", r"ve pra mim", r"novo pedido", r"faz(?:er)? um pedido",
    r"(?:me|nos) (?:traz|leva)", r"(?:pode|podem|poderia|consegue|da pra) (?:me |nos )?(?:trazer|levar|mandar|enviar|entregar)",
)
ORDER_HEADER = re.compile(r"^\s*(?:nuevo\s+|novo\s+|new\s+)?(?:pedido|order|encomenda|orden)\b")
QUESTION_START = re.compile(
    r"^\s*(?:(?:hola|hi|hey|hello|oi|ola|buenas|buenos dias|bom dia|boa tarde|good morning)\W+)*"
    r"(?:que|cual|cuales|cuanto|cuanta|cuantos|cuantas|como|cuando|donde|tienen|tienes|hay|manejan|venden|"
    r"what|whats|when|where|which|who|why|how|do you|does|did|is there|are there|is it|any chance|"
    r"qual|quais|quanto|quanta|quantos|quantas|quando|onde|tem|voces tem|vcs tem|vc tem|voce tem)\b"
)
PRICE = _words(
    r"cuanto (?:me |nos |te |le |les )?(?:cuesta|cuestan|sale|salen|vale|valen|es|seria|serian|cobran|cobras|queda)",
    r"precios?", r"costo", r"cotizacion",
    r"how much", r"prices?", r"cost", r"quote", r"quanto (?:me |nos )?(?:custa|custam|e|ta|fica|ficam|sai|saem)",
    r"precos?", r"valor",
    r"tabela", r"orcamento",
)
# An amount of money: in a question without an order verb it asks a price ("still $118 a case?").
MONEY = re.compile(r"(?:\$|r\$|us\$|usd|mxn|brl)\s?\d|\d(?:[.,]\d+)?\s?(?:pesos|reais|dolares|dollars|bucks)\b")
COMPLAINT = _words(
    # es
    r"incomplet[oa]s?", r"falt(?:o|aron|aba|aban)", r"no (?:me |nos )?(?:llego|llegaron|vino|vinieron|trajeron)",
    r"rot[oa]s?", r"quebrad[oa]s?", r"golpead[oa]s?", r"reventad[oa]s?", r"abollad[oa]s?", r"aplastad[oa]s?", r"danad[oa]s?", r"caducad[oa]s?", r"vencid[oa]s?", r"echad[oa]s? a perder",
    r"mal estado", r"equivocad[oa]s?", r"cobraron (?:de mas|doble|mal)", r"queja", r"reclamo", r"reclamacion",
    r"(?:me|nos) cobraron\b.{0,60}\b(?:pero|solo|y no)", r"cobr(?:o|aron|aste) de mas",
    r"solo (?:me |nos )?(?:bajaron|bajo|dejaron|dejo)", r"solo (?:me |nos )?(?:llego|llegaron|vino|vinieron|trajeron|mandaron|entregaron)",
    r"devolucion", r"devolver", r"reembolso", r"nota de credito", r"derretid[oa]s?", r"abiert[oa]s?",
    r"(?:llego|llegaron|vino|vinieron) (?:mal|tarde|caliente|abiert)\w*",
    # en
    r"broken", r"damaged", r"missing", r"(?:was|were|came|delivered) short", r"shorted", r"never (?:arrived|came|showed)",
    r"didnt (?:arrive|come|get)", r"did not (?:arrive|come|get)", r"wrong (?:item|items|order|product|size|one)",
    r"spoiled", r"rotten", r"dented", r"busted", r"smashed", r"punctured", r"expired", r"leak(?:ing|ed|y)", r"moldy", r"crushed", r"overcharged",
    r"charged (?:twice|double|us twice)", r"credit (?:us|me|for|memo|back)", r"refund", r"complaint",
    r"(?:were|was|got|been) charged\b.{0,60}\b(?:but|only|twice|double|wrong)",
    r"charged (?:us |me )?for\b.{0,60}\b(?:but|only)", r"only (?:received|came|arrived|delivered)",
    r"(?:but|yet) (?:we |i )?only got", r"only got \d+(?!.{0,30}\bleft\b)",
    r"not what (?:i|we) ordered", r"(?:a|the|for|us|me|issue|get|need|want) credit(?! card)", r"torn", r"ripped",
    r"thawed", r"melted", r"stale", r"(?:was|were|came|arrived) (?:bad|warm|wrong|late|open)",
    # pt
    r"faltou", r"faltaram", r"(?:veio|vieram|chegou|chegaram) (?:errad|quebrad|faltando|vencid|estragad|amassad|abert|incomplet)\w*",
    r"estragad[oa]s?", r"amassad[oa]s?", r"furad[oa]s?", r"vazad[oa]s?", r"vazando", r"rasgad[oa]s?", r"nao (?:chegou|veio|recebi|recebemos)", r"cobraram (?:a mais|errado|dobrado)",
    r"cobraram\b.{0,60}\b(?:mas|so|somente|apenas|e nao)", r"(?:so|somente|apenas) (?:me |nos )?(?:veio|vieram|chegou|chegaram|recebi|recebemos|mandaram|entregaram)",
    r"reclamacao", r"devolucao", r"estorno", r"devolv\w+", r"regres(?:o|amos|ar|arles|arlos)",
    r"(?:llego|llegaron|vino|vinieron|mandaron|enviaron|trajeron|entregaron)\b.{0,40}\bde (?:mas|sobra)",
    r"(?:veio|vieram|chegou|chegaram|mandaram)\b.{0,40}\ba mais", r"(?:sent|delivered|got) (?:us )?(?:too many|extra)",
    r"return(?:ed|ing)?",
)
# "Lo mismo de siempre", "the usual", "o mesmo da semana passada": repeat a previous order.
REPEAT = _words(
    r"lo (?:mismo|de siempre)", r"el (?:pedido )?de siempre", r"(?:el )?mismo pedido", r"lo (?:mismo )?de la (?:vez|semana) pasada",
    r"the usual", r"same (?:as|order|again|thing)", r"repeat (?:my|the|our|last)\w*(?: order)?", r"usual order",
    r"o (?:mesmo|de sempre)", r"(?:o )?mesmo pedido", r"repet(?:e|ir) o pedido",
)
# Asking whether something is in stock: a question even with counts ("tienen 10 cajas de coca?").
AVAILABILITY = re.compile(
    r"\b(?:tienen|tienes|tiene|hay|manejan|venden|do (?:you|u) (?:guys )?(?:have|carry|sell|stock)|"
    r"(?:you|u) (?:got|have)|got any|is there|are there|in stock|available|disponibles?|"
    r"(?:voces|vcs|vc|voce) tem|tem (?!como)|tem$)"
)
# A report on a past delivery ("ya llegó", "we received", "chegou tudo"): not an order by itself.
DELIVERED = _words(
    r"llego", r"llegaron", r"recibi", r"recibimos", r"nos trajeron", r"me trajeron", r"arrived", r"received",
    r"came in", r"(?:we|i) got", r"chegou", r"chegaram", r"recebi", r"recebemos", r"veio", r"vieram",
)
CANCEL = _words(
    r"cancel\w*", r"anula(?:r|n)?", r"ya no (?:lo |la |los |las )?(?:quiero|necesito|mandes|manden|envies)",
    r"no (?:me |nos )?(?:lo |la |los |las )?(?:mandes|manden|envies|envien)", r"(?:dont|do not) (?:send|need|deliver)",
    r"no longer need", r"nao (?:precisa|preciso) mais", r"nao (?:manda|mande|mandar) mais", r"desconsider\w*",
    r"olvida (?:el|mi) pedido", r"esquece o pedido", r"scratch (?:the|my|that) order",
)
CHANGE = _words(
    r"en (?:vez|lugar) de", r"instead of", r"em vez de", r"no lugar de", r"cambi(?:a|ar|en|ame)", r"change (?:the|my|it|that)",
    r"switch", r"swap", r"modific\w+", r"troc(?:a|ar|e)", r"alter(?:a|ar|e)", r"mud(?:a|ar|e)", r"quit(?:a|ar|ale|en)",
    r"remove", r"take off", r"tir(?:a|ar|e) (?:o|a|os|as)", r"sac(?:a|ar|ale) (?:el|la|los|las)", r"reduc\w+",
)


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

    @property
    def orderable(self) -> bool:
        """Lines in this sentence can be order lines: not a complaint/cancel, not a bare question."""
        if self.complaint or self.cancel or self.price:
            return False
        return not (self.question or self.delivered) or self.order

    @property
    def counted_orderable(self) -> bool:
        """Counted products make an order here: "can you do 2 cases of lids?" is a request, not a question."""
        if self.complaint or self.cancel or self.price or self.availability:
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
        cancel=bool(CANCEL.search(text)),
        change=bool(CHANGE.search(text)),
        delivered=bool(DELIVERED.search(text)),
        repeat=bool(REPEAT.search(text)),
        availability=bool(AVAILABILITY.search(text)),
    )


def message_cues(text: str, sentences: Sequence[Sentence] | None = None) -> list[SentenceCues]:
    """Cues of each sentence; `sentences`: split_sentences(text) when the caller already has them."""
    return [sentence_cues(s, text[s.start : s.end]) for s in (split_sentences(text) if sentences is None else sentences)]


def decide_intent(cues: Sequence[SentenceCues], order_sentences: set[int]) -> Intent:
    """The message intent, given which sentences carry order lines."""
    if any(c.cancel for c in cues):
        return Intent.ORDER_CANCEL
    verb_order = any(c.order and c.index in order_sentences and not c.complaint for c in cues)
    if any(c.complaint for c in cues) and not verb_order:
        return Intent.COMPLAINT
    if order_sentences or any(c.repeat and (c.orderable or c.question) for c in cues):
        return Intent.ORDER_CHANGE if any(c.change for c in cues) else Intent.ORDER
    if any(c.question or c.price for c in cues):
        return Intent.QUESTION
    return Intent.OTHER


__all__ = ["SentenceCues", "decide_intent", "message_cues", "sentence_cues"]
