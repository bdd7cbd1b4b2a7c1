"""Non-product words of order messages in es/en/pt: fillers, clause cues, corrections.

The words live in the lexicon (ai/lexicon/<lang>/fillers.toml and clauses.toml); a message's language
is a guess and customers mix them, so the parser uses every language's words at once. All entries are
folded (lowercase, no accents, no apostrophes: "we'd" → "wed"), matching the tokens the line parser
produces. Multi-word cues are tuples of words, matched by their first word (`starts_with`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ai.lexicon import set_all, words_all

Cue = tuple[str, ...]


# cue table (by identity) -> its cues by first word, longest first: (table, {word: ((rest, length), ...)})
_BY_FIRST_WORD: dict[int, tuple[tuple[Cue, ...], dict[str, tuple[tuple[Cue, int], ...]]]] = {}


def _by_first_word(cues: tuple[Cue, ...]) -> dict[str, tuple[tuple[Cue, int], ...]]:
    entry = _BY_FIRST_WORD.get(id(cues))
    if entry is not None and entry[0] is cues:
        return entry[1]
    grouped: dict[str, list[tuple[Cue, int]]] = {}
    for cue in cues:  # already longest first; the grouping keeps that order
        if cue:
            grouped.setdefault(cue[0], []).append((cue[1:], len(cue)))
    index = {word: tuple(found) for word, found in grouped.items()}
    _BY_FIRST_WORD[id(cues)] = (cues, index)
    return index


def first_words(cues: tuple[Cue, ...]) -> frozenset[str]:
    """The words any of the cues starts with: elsewhere `starts_with` is None."""
    return frozenset(_by_first_word(cues))


def starts_with(words: Sequence[str], index: int, cues: tuple[Cue, ...]) -> int | None:
    """Length of the first cue that `words` has at `index`, or None."""
    if index < 0 or index >= len(words):
        return None
    found = _by_first_word(cues).get(words[index])
    if found is None:
        return None
    for rest, length in found:
        if not rest or tuple(words[index + 1 : index + length]) == rest:
            return length
    return None


def _cue_table(key: str) -> tuple[Cue, ...]:
    """A cue table of every language (lexicon clauses.toml), longest first so that "me liga" wins over "me"."""
    cues = {tuple(cue.split()) for cue in words_all("clauses", key)}
    return tuple(sorted(cues, key=len, reverse=True))


# Greetings, politeness, order verbs and pronouns: stripped from the edges of product phrases.
FILLERS = set_all("fillers", "fillers")
CONJUNCTIONS = set_all("fillers", "conjunctions")
# Purpose and destination words: what follows them in a line ("pa la fiesta", "to our second
# location", "al pedido de ...") is rarely product words; the matcher decides (ai.matching.lines).
TAIL_STARTS = set_all("fillers", "tail_starts")
# "2 cases each", "2 de cada uno", "2 de cada": one count for every product named before it.
EACH_WORDS = set_all("fillers", "each_words")
# Generic descriptors customers add that rarely name a product ("regular fries", "coca normal").
QUALIFIERS = set_all("fillers", "qualifiers")
# "3 de coca", "3 d doritos" (chat spelling), "2 cases of": between a count and its product.
OF_WORDS = set_all("fillers", "of_words")
# Short words followed by "." that do not end a sentence.
ABBREVIATIONS = set_all("fillers", "abbreviations")

# An address runs from its cue to the end of the sentence.
ADDRESS_CUES = _cue_table("address")
# Introductions, contact and billing details run to the next comma or conjunction.
INTRO_CUES = _cue_table("intro")
CONTACT_CUES = _cue_table("contact")
# "that's it", "eso es todo", "é isso": the customer is done; to the next comma or conjunction.
CLOSING_CUES = _cue_table("closing")
# "sin los refrescos", "take off the bacon", "tira o arroz": the product removed, to the next comma or conjunction.
REMOVAL_CUES = _cue_table("removal")
# Self-corrections: the line before the cue is replaced by the one after it. The words of
# WEAK_CORRECTIONS ("mejor", "melhor", "actually") correct only right after a comma or at the start.
CORRECTION_CUES = _cue_table("correction")
WEAK_CORRECTIONS = set_all("clauses", "weak_corrections")
# "4 cx de óleo, não, pera, 3 cx", "[10:16] sry 5 cs lids": words that correct only when a count (or a
# pack word, or another correction cue) follows them, past commas and WAIT_WORDS; "no"/"não" only
# after a comma ("no, gracias" and "no se te olvide" are not corrections).
COUNTED_CORRECTIONS = set_all("clauses", "counted_corrections")
COMMA_ONLY_CORRECTIONS = set_all("clauses", "comma_only_corrections")
WAIT_WORDS = set_all("clauses", "wait_words")
# Cues that correct only at the start of a sentence or after a comma ("wait, make the tomatoes 3").
WEAK_CORRECTION_CUES = frozenset(tuple(cue.split()) for cue in words_all("clauses", "weak_correction_cues"))

__all__ = [
    "ABBREVIATIONS",
    "ADDRESS_CUES",
    "CLOSING_CUES",
    "COMMA_ONLY_CORRECTIONS",
    "CONJUNCTIONS",
    "CONTACT_CUES",
    "CORRECTION_CUES",
    "COUNTED_CORRECTIONS",
    "EACH_WORDS",
    "FILLERS",
    "INTRO_CUES",
    "OF_WORDS",
    "QUALIFIERS",
    "REMOVAL_CUES",
    "TAIL_STARTS",
    "WAIT_WORDS",
    "WEAK_CORRECTIONS",
    "WEAK_CORRECTION_CUES",
    "first_words",
    "starts_with",
]
