"""Match a customer's product words to a distributor's catalog, with an honest 0..1 score.

Every product is indexed once by the tokens of its name and aliases (folded, plural- and
size-normalised). A phrase scores against a product by two weighted coverages, combined as
an F1: how much of the phrase the product explains (precision) and how much of the
product's best alias the phrase covers (recall). Tokens weigh by rarity in the catalog
(idf), so "sprite" decides more than "600"; words the catalog has never seen weigh as much
as the rarest, so an unknown product scores low instead of matching confidently. Token
similarity is exact, abbreviation ("mozz" → "mozzarella") or rapidfuzz ratio for typos.
Learned aliases (corrections by the distributor) win first.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from ai.catalog import Catalog, Product
from ai.lexicon import LANGUAGES, table
from ai.matching.phonetic import skeleton_key, sound_key, spelled_key
from ai.offline.pack_units import CONTAINER, PACK_WORDS
from ai.offline.quantities import strip_quantity
from ai.offline.vocabulary import QUALIFIERS
from ai.text import STOPWORDS, fold, measure_tokens, raw_tokens, stem, undiminish

MIN_TOKEN_SIMILARITY = 0.78  # rapidfuzz ratio / 100 below which two words are different words
# shorter words need more: "oil" is not "foil", "jarro" is not "arroz"
SHORT_TOKEN_SIMILARITY: dict[int, float] = {1: 1.0, 2: 1.0, 3: 0.9, 4: 0.9, 5: 0.85}
ONE_EDIT_SIMILARITY = 0.85  # a short word one typo away, same first letter: "tkis" for "takis"
ONE_EDIT_MIN_LENGTH = 4  # ... when the longer word has at least this many letters ("lid" is not "lim")
DIMINUTIVE_SIMILARITY = 0.9  # "coronita" for "corona", "latinha" for "lata"
QUALIFIER_WEIGHT = 0.3  # an unknown generic descriptor ("regular", "fresh") weighs this share of an unknown word
MIN_SPLIT_PART = 3  # "cocacola" → "coca" + "cola" when both parts are catalog words of this length
TRANSLATION_SIMILARITY = 0.9  # "hielo" for "gelo": the same thing in another language (lexicon products.toml)
PHONETIC_SIMILARITY = 0.8  # "koka" for "coca", "chikn" for "chicken": the same sound key (ai.matching.phonetic)
PHONETIC_FLOOR = 0.4  # ... and at least this plain similarity ("webo" / "huevo" is 0.44)
PHONETIC_MIN_LENGTH = 4  # "son" is no "sin": short words say too little by sound
PREFIX_SIMILARITY = 0.9  # an abbreviation: "mozz" for "mozzarella", "deslac" for "deslactosada"
MIN_PREFIX_LENGTH = 4
NUMERIC_ALIAS_WEIGHT = 0.5  # sizes in a name count half: customers often leave them out
CONTAINER_ALIAS_WEIGHT = 0.3  # "bulto de maseca": the pack word barely matters
PRECISION_BETA = 0.5  # F-beta: explaining the customer's words matters more than covering the alias
SIMILARITY_CACHE_SIZE = 50_000  # query words whose similar catalog words are remembered
RANKING_CACHE_SIZE = 20_000  # phrases (and normalised queries) whose ranking is remembered, per matcher
MIN_CANDIDATE_SCORE = 0.3  # candidates below this are noise, not listed
MIN_BEST_SCORE = 0.5  # `best` returns nothing under this


_QUALIFIER_STEMS = frozenset(stem(word) for word in QUALIFIERS)


@dataclass(frozen=True, kw_only=True)
class Candidate:
    sku: str
    name: str
    score: float  # 0..1
    method: str  # "learned" | "alias_exact" | "name_exact" | "alias_fuzzy" | "name_fuzzy" | "learned_fuzzy"


@dataclass(frozen=True, kw_only=True)
class _Tok:
    text: str  # stemmed form
    container: bool  # a container pack word ("caja", "case"): weighs little in an alias
    pack: bool  # any pack word ("caja", "lata"): in a phrase it only counts when it matches


@dataclass(frozen=True, kw_only=True)
class _Alias:
    tokens: tuple[_Tok, ...]
    source: str  # "alias" | "name" | "learned"


@dataclass(frozen=True, kw_only=True)
class _WeightedAlias:
    """An alias as recall sees it: each token's text and weight, and their total."""

    tokens: tuple[tuple[str, float], ...]
    total: float
    source: str


class _Ranking:
    """Every product scored for one query, best first; Candidates are made on first use."""

    __slots__ = ("_made", "_products", "_ranked")

    def __init__(self, ranked: list[tuple[int, float, str]], products: tuple[Product, ...]) -> None:
        self._ranked = ranked
        self._products = products
        self._made: tuple[Candidate, ...] = ()  # replaced, never mutated: safe to share

    def top(self, limit: int) -> list[Candidate]:
        wanted = len(self._ranked[:limit])
        made = self._made
        if len(made) < wanted:
            made += tuple(
                Candidate(sku=self._products[i].sku, name=self._products[i].name, score=round(score, 4), method=method)
                for i, score, method in self._ranked[len(made) : wanted]
            )
            self._made = made
        return list(made[:wanted])


def _strip_parentheses(name: str) -> str:
    out: list[str] = []
    depth = 0
    for char in name:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def normalise(text: str) -> tuple[_Tok, ...]:
    """Tokens of a phrase as the matcher compares them."""
    tokens: list[_Tok] = []
    for raw in measure_tokens(raw_tokens(fold(text))):
        if raw in STOPWORDS or (len(raw) == 1 and not raw.isdigit()):
            continue
        pack = PACK_WORDS.get(raw)
        tokens.append(
            _Tok(text=stem(raw), container=pack is not None and pack[1] == CONTAINER, pack=pack is not None)
        )
    return tuple(tokens)


def _key(tokens: tuple[_Tok, ...]) -> tuple[str, ...]:
    return tuple(sorted(t.text for t in tokens if not t.container))


def _numeric(token: str) -> bool:
    return token[:1].isdigit()


def _translations(vocabulary: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """A one-word product word of any language -> the catalog's one-word words for the same thing
    (lexicon products.toml); words the catalog uses itself are left to mean what they say."""
    concepts: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        for concept, written in table(lang, "products", "concepts").items():
            concepts.setdefault(concept, set()).update(stem(fold(w)) for w in written if " " not in w)
    out: dict[str, tuple[str, ...]] = {}
    for words in concepts.values():
        present = tuple(sorted(w for w in words if w in vocabulary))
        for word in words:
            if word not in vocabulary and present:
                out[word] = present
    return out


class Matcher:
    """Per-catalog index; build once per catalog version and reuse.

    Rankings are remembered per phrase and per normalised query (bounded, cleared when full):
    the analyzer and the worker ask about the same lines several times.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._products: tuple[Product, ...] = catalog.products
        by_sku = {p.sku: i for i, p in enumerate(self._products)}
        self._aliases: list[list[_Alias]] = []
        for product in self._products:
            aliases = [_Alias(tokens=normalise(_strip_parentheses(product.name)), source="name")]
            aliases += [_Alias(tokens=normalise(a), source="alias") for a in product.aliases]
            self._aliases.append([a for a in aliases if a.tokens])
        self._learned: dict[tuple[str, ...], int] = {}
        for text, sku in catalog.learned_aliases:
            index = by_sku.get(sku)
            tokens = normalise(text)
            if index is not None and tokens:
                self._learned[_key(tokens)] = index
                self._aliases[index].append(_Alias(tokens=tokens, source="learned"))
        self._union: list[frozenset[str]] = [
            frozenset(t.text for a in aliases for t in a.tokens) for aliases in self._aliases
        ]
        df: Counter[str] = Counter(t for union in self._union for t in union)
        count = max(len(self._products), 1)
        self._idf: dict[str, float] = {t: math.log(1 + count / n) for t, n in df.items()}
        self._unknown_weight = math.log(1 + count)
        self._vocab: list[str] = sorted(df)
        self._postings: dict[str, list[int]] = {}
        for index, union in enumerate(self._union):
            for token in union:
                self._postings.setdefault(token, []).append(index)
        self._exact: dict[tuple[str, ...], list[tuple[int, str]]] = {}
        for index, aliases in enumerate(self._aliases):
            for alias in aliases:
                self._exact.setdefault(_key(alias.tokens), []).append((index, alias.source))
        self._diminutives: dict[str, list[str]] = {}  # "corona" -> ["coronita"]
        for word in self._vocab:
            plain = undiminish(word)
            if plain != word:
                self._diminutives.setdefault(plain, []).append(word)
        self._sounds: dict[str, list[str]] = {}  # phonetic key -> vocabulary words ("kak" -> ["coca"])
        for word in self._vocab:
            if word.isalpha() and len(word) >= PHONETIC_MIN_LENGTH:
                for key in (sound_key(word), skeleton_key(word)):
                    if key:
                        self._sounds.setdefault(key, []).append(word)
        self._spellings: dict[str, list[str]] = {}  # spelled key -> vocabulary words ("lim" -> ["lim"], for "lym")
        for word in self._vocab:
            if word.isalpha():
                self._spellings.setdefault(spelled_key(word), []).append(word)
        self._translations = _translations(frozenset(self._vocab))
        self._similar_cache: dict[str, dict[str, float]] = {}
        self._weighted: list[tuple[_WeightedAlias, ...]] = [
            tuple(self._weighted_alias(alias) for alias in aliases) for aliases in self._aliases
        ]
        self._phrase_rankings: dict[str, _Ranking] = {}
        self._query_rankings: dict[tuple[tuple[str, bool, bool], ...], _Ranking] = {}

    # -- token similarity ------------------------------------------------------------------

    def _similar(self, token: str) -> dict[str, float]:
        """Vocabulary words similar to `token`, with similarity 0..1."""
        cached = self._similar_cache.get(token)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if token in self._idf:
            found[token] = 1.0
        if not _numeric(token):
            for word, score, _ in process.extract(
                token, self._vocab, scorer=fuzz.ratio, score_cutoff=MIN_TOKEN_SIMILARITY * 100, limit=None
            ):
                needed = SHORT_TOKEN_SIMILARITY.get(min(len(word), len(token)), MIN_TOKEN_SIMILARITY)
                if not _numeric(word) and word != token and score >= needed * 100:
                    found[word] = max(found.get(word, 0.0), score / 100)
            for word, _, _ in process.extract(
                token, self._vocab, scorer=Levenshtein.distance, score_cutoff=1, limit=None
            ):
                if word[:1] == token[:1] and max(len(word), len(token)) >= ONE_EDIT_MIN_LENGTH and word != token:
                    found[word] = max(found.get(word, 0.0), ONE_EDIT_SIMILARITY)
            if token.isalpha() and len(token) >= PHONETIC_MIN_LENGTH and token not in self._idf:
                # typed by ear ("koka", "webo", "chikn"): same sound, and still a floor of plain similarity
                for key in (sound_key(token), skeleton_key(token)):
                    for word in self._sounds.get(key, ()) if key else ():
                        if word != token and fuzz.ratio(token, word) >= PHONETIC_FLOOR * 100:
                            found[word] = max(found.get(word, 0.0), PHONETIC_SIMILARITY)
            if token.isalpha() and token not in self._idf:
                # "lymes", "kola": the same letters after the sound rules, however short
                for word in self._spellings.get(spelled_key(token), ()):
                    if word != token:
                        found[word] = max(found.get(word, 0.0), PHONETIC_SIMILARITY)
            for word in self._translations.get(token, ()):  # "hielo" where the catalog says "gelo"
                found[word] = max(found.get(word, 0.0), TRANSLATION_SIMILARITY)
            plain = undiminish(token)
            for word in {plain, *self._diminutives.get(token, ()), *self._diminutives.get(plain, ())}:
                if word != token and word in self._idf:
                    found[word] = max(found.get(word, 0.0), DIMINUTIVE_SIMILARITY)
            if len(token) >= MIN_PREFIX_LENGTH:
                position = bisect.bisect_left(self._vocab, token)
                while position < len(self._vocab) and self._vocab[position].startswith(token):
                    word = self._vocab[position]
                    if word != token:
                        found[word] = max(found.get(word, 0.0), PREFIX_SIMILARITY)
                    position += 1
        # a generic descriptor ("chica", "large") is a product word only as written: many words are
        # one edit away from it ("chicles" → "chicl" is one edit from "chica")
        found = {w: v for w, v in found.items() if w == token or w not in _QUALIFIER_STEMS}
        if len(self._similar_cache) >= SIMILARITY_CACHE_SIZE:
            self._similar_cache.clear()
        self._similar_cache[token] = found
        return found

    def _split_glued(self, query: tuple[_Tok, ...]) -> tuple[_Tok, ...]:
        """ "cocacola" → "coca", "cola" when the word is unknown and both halves are catalog words."""
        out: list[_Tok] = []
        for token in query:
            word = token.text
            parts: tuple[str, str] | None = None
            if word not in self._idf and word.isalpha() and len(word) >= 2 * MIN_SPLIT_PART:
                for cut in range(MIN_SPLIT_PART, len(word) - MIN_SPLIT_PART + 1):
                    head, tail = word[:cut], stem(word[cut:])
                    if head in self._idf and tail in self._idf:
                        parts = (head, tail)
                        break
            if parts is None:
                out.append(token)
            else:
                out.extend(_Tok(text=p, container=False, pack=False) for p in parts)
        return tuple(out)

    def _neutral(self, token: _Tok) -> bool:
        """A pack word that tells no products apart in this catalog ("caja"; "botella" if no name has it)."""
        return token.pack and (token.container or token.text not in self._idf)

    def _query_keys(self, tokens: tuple[_Tok, ...]) -> list[tuple[str, ...]]:
        """Exact-match keys of a phrase: without container words, then without any neutral pack word."""
        keys = [_key(tokens), tuple(sorted(t.text for t in tokens if not self._neutral(t)))]
        return [k for i, k in enumerate(keys) if k and k not in keys[:i]]

    def _weight(self, token: str, similar: dict[str, float]) -> float:
        if not similar:
            return self._unknown_weight * (QUALIFIER_WEIGHT if token in _QUALIFIER_STEMS else 1.0)
        best = max(similar, key=lambda w: similar[w])
        return self._idf.get(best, self._unknown_weight)

    def _alias_weight(self, token: _Tok) -> float:
        weight = self._idf.get(token.text, self._unknown_weight)
        if token.container:
            return weight * CONTAINER_ALIAS_WEIGHT
        return weight * NUMERIC_ALIAS_WEIGHT if _numeric(token.text) else weight

    def _weighted_alias(self, alias: _Alias) -> _WeightedAlias:
        tokens = tuple((t.text, self._alias_weight(t)) for t in alias.tokens)
        total = 0.0
        for _, weight in tokens:
            total += weight
        return _WeightedAlias(tokens=tokens, total=total, source=alias.source)

    # -- scoring ---------------------------------------------------------------------------

    def _score(self, index: int, query: list[tuple[dict[str, float], float, bool]],
               best_of: dict[str, float]) -> tuple[float, str]:
        """F-beta of one product for a query given as (similar words, weight, neutral) per token.

        `best_of`: per catalog word, its best similarity to any query word (0.0 when none).
        """
        union = self._union[index]
        numerator = denominator = 0.0
        for similar, weight, neutral in query:
            if len(similar) < len(union):
                s = max((v for w, v in similar.items() if w in union), default=0.0)
            else:
                s = max((similar[u] for u in union if u in similar), default=0.0)
            if s == 0.0 and neutral:
                continue  # a pack word that tells no products apart here: neutral
            numerator += weight * s
            denominator += weight
        precision = numerator / denominator if denominator else 0.0
        best_recall, best_source = 0.0, "name"
        for alias in self._weighted[index]:
            got = 0.0
            for text, weight in alias.tokens:
                got += weight * best_of[text]
            recall = got / alias.total if alias.total else 0.0
            if recall > best_recall:
                best_recall, best_source = recall, alias.source
        beta2 = PRECISION_BETA**2
        if beta2 * precision + best_recall == 0:
            return 0.0, best_source
        return (1 + beta2) * precision * best_recall / (beta2 * precision + best_recall), best_source

    def _rank(self, query: tuple[_Tok, ...]) -> list[tuple[int, float, str]]:
        scored: dict[int, tuple[float, str]] = {}
        for key in self._query_keys(query):
            learned = self._learned.get(key)
            if learned is not None and learned not in scored:
                scored[learned] = (1.0, "learned")
            for index, source in self._exact.get(key, []):
                if index not in scored:
                    scored[index] = (1.0, f"{source}_exact" if source != "learned" else "learned")
            if scored:
                break
        sims = {q.text: self._similar(q.text) for q in query}
        pool = {i for q in query for word in sims[q.text] for i in self._postings.get(word, [])}
        fuzzy = pool - scored.keys()
        if fuzzy:
            weighed = [(sims[q.text], self._weight(q.text, sims[q.text]), self._neutral(q)) for q in query]
            words = {text for i in fuzzy for alias in self._weighted[i] for text, _ in alias.tokens}
            best_of = {w: max((sims[q.text].get(w, 0.0) for q in query), default=0.0) for w in words}
            for index in fuzzy:
                score, source = self._score(index, weighed, best_of)
                if score >= MIN_CANDIDATE_SCORE:
                    scored[index] = (min(score, 0.99), f"{source}_fuzzy")
        ranked = sorted(scored.items(), key=lambda item: (-item[1][0], item[1][1] != "learned", item[0]))
        return [(index, score, method) for index, (score, method) in ranked]

    def _ranking(self, phrase: str) -> _Ranking:
        ranking = self._phrase_rankings.get(phrase)
        if ranking is not None:
            return ranking
        query = self._split_glued(normalise(strip_quantity(phrase)))
        key = tuple((t.text, t.container, t.pack) for t in query)
        ranking = self._query_rankings.get(key)
        if ranking is None:
            # "3 cajas" names no product
            ranking = _Ranking([] if all(t.container for t in query) else self._rank(query), self._products)
            if len(self._query_rankings) >= RANKING_CACHE_SIZE:
                self._query_rankings.clear()
            self._query_rankings[key] = ranking
        if len(self._phrase_rankings) >= RANKING_CACHE_SIZE:
            self._phrase_rankings.clear()
        self._phrase_rankings[phrase] = ranking
        return ranking

    def candidates(self, phrase: str, *, limit: int = 5) -> list[Candidate]:
        """Catalog products for `phrase` (a line's product words, or a whole line), best first."""
        return self._ranking(phrase).top(limit)

    def best(self, phrase: str) -> Candidate | None:
        found = self.candidates(phrase, limit=1)
        return found[0] if found and found[0].score >= MIN_BEST_SCORE else None


__all__ = ["MIN_BEST_SCORE", "MIN_CANDIDATE_SCORE", "Candidate", "Matcher", "normalise"]
