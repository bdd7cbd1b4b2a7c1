"""Rejected alternatives: "1 sack of onions not 2", "2 caixas de leite não 3", "6 cajas en vez de 4".

A customer who names a count and then, after a negation cue, another count ("not 2", "y no 3",
"instead of 4", "em vez de 3"), wants the first one: the second is the count they reject. The
negation cues are the message language's `instead_tail` (ai/lexicon/<lang>/conversation.toml):
Portuguese "no" is "in the", Spanish "no" is "not", so the cues are never mixed across languages.

`drop_rejected_counts` takes the cue, the rejected count and its pack word out of a sentence's
tokens before the line parser cuts it into lines. It is no self-correction: a correction puts its
new count right after a comma or a correction cue ("no, 3 de arroz", "não, pera, 6 cx"), and a cue
followed by a comma, or with no count before it in its clause, is left alone.
"""

from __future__ import annotations

from functools import cache

from ai.lexicon import LANGUAGES, words, words_all
from ai.offline.pack_units import PACK_WORDS
from ai.offline.quantities import MEASURE, NUMBER, SEP, WORD, Token
from ai.offline.vocabulary import CONJUNCTIONS, Cue, first_words, starts_with
from ai.text import fold


@cache
def rejection_cues(language: str) -> tuple[Cue, ...]:
    """The language's cues before a rejected count, folded, longest first (every language's when unknown)."""
    found = words(language, "conversation", "instead_tail") if language in LANGUAGES else words_all(
        "conversation", "instead_tail")
    cues = {tuple(fold(cue).split()) for cue in found}
    return tuple(sorted((cue for cue in cues if cue), key=len, reverse=True))


def _is_count(token: Token) -> bool:
    return token.kind == NUMBER and token.value is not None


def _ends_clause(token: Token) -> bool:
    return token.kind == SEP or (token.kind == WORD and token.text in CONJUNCTIONS)


def _kept_count_before(tokens: list[Token], i: int) -> int | None:
    """Index of the count the customer keeps: in the clause that ends at the cue (past one comma
    right before it, as in "3 cajas de coca, no 2"), or None when the clause has none."""
    k = i - 1
    if k >= 0 and tokens[k].kind == SEP:
        k -= 1
    while k >= 0 and not _ends_clause(tokens[k]):
        if _is_count(tokens[k]):
            return k
        k -= 1
    return None


def _adjacent(tokens: list[Token], kept: int, i: int) -> bool:
    """The kept count stands right before the cue, maybe with its pack word ("6 en vez de 4 cajas de ...")."""
    between = tokens[kept + 1 : i]
    return not between or (len(between) == 1 and between[0].text in PACK_WORDS)


def drop_rejected_counts(tokens: list[Token], language: str) -> list[Token]:
    """`tokens` without each "<cue> <count> [pack word]" that rejects the count before it."""
    cues = rejection_cues(language)
    starts = first_words(cues)
    words_ = [token.text for token in tokens]
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        length = starts_with(words_, i, cues) if words_[i] in starts and i > 0 else None
        kept = _kept_count_before(tokens, i) if length is not None else None
        at = i + (length or 0)
        if kept is None or at >= len(tokens) or not (_is_count(tokens[at]) or tokens[at].kind == MEASURE):
            out.append(tokens[i])
            i += 1
            continue
        end = at + 1
        pack = end < len(tokens) and tokens[end].text in PACK_WORDS
        end += pack
        adjacent = _adjacent(tokens, kept, i)
        if end < len(tokens) and not _ends_clause(tokens[end]) and not adjacent:
            out.append(tokens[i])  # more words follow a count that is not the kept one's alternative
            i += 1
            continue
        if pack and adjacent and not any(t.text in PACK_WORDS for t in tokens[kept + 1 : i]):
            out.append(tokens[end - 1])  # "6 en vez de 4 cajas de coca": the pack word is the kept count's
        if out and out[-1].kind == SEP and (end >= len(tokens) or _ends_clause(tokens[end])):
            out.pop()  # "3 cajas de coca, no 2": the comma went with the rejected count
        i = end
    return out


__all__ = ["drop_rejected_counts", "rejection_cues"]
