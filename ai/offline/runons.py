"""Product-then-quantity run-ons: "tomatoes 4 cases onions 2 sacks lettuce 3", "leite 6 caixas margarina 2".

The line parser reads a count before its product ("4 cases of tomatoes"). A stretch of a sentence
without separators that starts with product words and ends with a count (and maybe its pack word),
where every count is followed by its pack word and then the next product's words, is a list written
the other way round: `split_product_first` puts a separator after each "count [pack word]", so that
each product reads with the count that follows it. A stretch with one product only is left alone
(the matcher reads "leite 5" already), and so is anything that starts with a count.
"""

from __future__ import annotations

from ai.offline.pack_units import PACK_WORDS
from ai.offline.quantities import MEASURE, NUMBER, SEP, WORD, XQTY, Token
from ai.offline.vocabulary import CONJUNCTIONS, FILLERS, OF_WORDS
from ai.text import STOPWORDS

MIN_GROUPS = 2  # products in the stretch; one alone is no run-on


def _is_count(token: Token) -> bool:
    return token.kind in {NUMBER, XQTY} and token.value is not None


def _noise(token: Token) -> bool:
    return token.kind == WORD and (token.text in FILLERS or token.text in STOPWORDS)


def _leading_amount(stretch: list[Token], start: int) -> bool:
    """ "36 litros de aceite y 200 vasitos": an amount before its product starts the stretch, as a count does."""
    return stretch[start].kind == MEASURE and start + 1 < len(stretch) and stretch[start + 1].text in OF_WORDS


def _groups(stretch: list[Token]) -> list[int] | None:
    """Indexes (into `stretch`) after which a product-first group ends, or None when it is not one."""
    start, end = 0, len(stretch)
    while start < end and _noise(stretch[start]):
        start += 1
    while end > start and _noise(stretch[end - 1]):
        end -= 1
    if end - start < 4 or _is_count(stretch[start]) or _leading_amount(stretch, start):
        return None
    cuts: list[int] = []
    words = 0  # product words since the last group
    k = start
    while k < end:
        token = stretch[k]
        if _is_count(token):
            if words == 0:
                return None  # two counts in a row, or a count after a pack word: not this shape
            if k + 1 < end and stretch[k + 1].text in PACK_WORDS:
                k += 1
            if k + 1 < end and stretch[k + 1].text in OF_WORDS:
                return None  # "8 paquetes de agua": a count before its product, as usual
            cuts.append(k)
            words = 0
        elif not _noise(token) and token.text not in CONJUNCTIONS:
            words += 1
        k += 1
    if words or len(cuts) < MIN_GROUPS:
        return None  # the stretch must end on a count (or its pack word)
    return cuts[:-1]


def split_product_first(tokens: list[Token]) -> list[Token]:
    """`tokens` with a separator after each "count [pack word]" of a product-first run-on."""
    out: list[Token] = []
    stretch: list[Token] = []
    for token in [*tokens, None]:
        if token is not None and token.kind != SEP:
            stretch.append(token)
            continue
        cuts = _groups(stretch) if len(stretch) >= 4 else None
        for k, item in enumerate(stretch):
            out.append(item)
            if cuts and k in cuts:
                out.append(Token(text=",", start=item.end, end=item.end, kind=SEP))
        if token is not None:
            out.append(token)
        stretch = []
    return out


__all__ = ["split_product_first"]
