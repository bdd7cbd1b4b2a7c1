"""Which of es/en/pt a short informal message is written in.

Counts words that belong to one language only (function words, greetings, order verbs,
pack words) plus a few letters (ñ ¿ ¡ for Spanish, ã õ ç for Portuguese). Words the
languages share ("de", "para", "manda", "por favor") say nothing. With no evidence, or a
tie that includes the default, the default wins (the customer's or distributor's language).
"""

from __future__ import annotations

import re
from typing import Literal

from ai.text import fold

Lang = Literal["es", "en", "pt"]
LANGUAGES: tuple[Lang, ...] = ("es", "en", "pt")
LETTER_WEIGHT = 2.0  # one ñ/¿/ã/ç counts as two marker words

_MARKERS: dict[Lang, frozenset[str]] = {
    "es": frozenset(
        """
        hola buenas buenos buen dias tardes noches gracias porfa porfis xfa plis necesito necesitamos
        quiero quisiera queremos ocupo mandame mandeme mandas manden envias enviame apuntas apunta
        anota anotame ponme pido pedimos traeme el la los las del y tambien tienen tienes hay cuanto
        cuanta cuesta cuestan precio cajas caja paquete paquetes carton cartones botella botellas bulto
        bultos reja rejas garrafon garrafones bolsa manana hoy ayer llego llegaron faltaron falto
        incompleto roto rotos esta estan es soy mi mis su pero muy ya cual cuales donde cuando
        lunes martes miercoles jueves viernes uno una dos cuatro siete ocho
        nueve diez doce veinte docena media medio otra otro digo mejor cancelen
        leche huevo huevos azucar aceite cerveza refresco pan usted ustedes
        """.split()
    ),
    "pt": frozenset(
        """
        oi ola bom boa obrigado obrigada valeu vlw preciso precisamos quero queria queremos o os as do
        da das e pra pro tem voce voces vc vcs nao sim caixa caixas fardo fardos pacote pacotes
        garrafa garrafas latinha amanha hoje ontem chegou chegaram faltou faltaram
        veio quebrado quebrada aqui meu minha muito ja qual quais onde quando quanto custa
        segunda terca quarta quinta sexta feira um uma dois duas quatro sete oito
        nove dez doze vinte duzia meia meio outra outro leite ovo ovos acucar
        oleo feijao cerveja refrigerante pao nota fiscal prazo beleza tudo certinho certo
        """.split()
    ),
    "en": frozenset(
        """
        hi hello hey thanks thank thx please pls plz need needs want would like can could get send add
        order the of and for to with from we our us my i im you your is are was were be it this that
        what when where how much many do does did have has had cases case bags bag sack sacks box
        boxes bottle bottles cans tomorrow today yesterday arrived missing broken damaged short credit
        cancel truck delivery deliver monday tuesday wednesday thursday friday saturday sunday one two
        three four five six seven eight nine ten twelve twenty dozen half another more also just usual
        """.split()
    ),
}
_LETTERS: dict[Lang, re.Pattern[str]] = {
    "es": re.compile(r"[ñÑ¿¡]"),
    "pt": re.compile(r"[ãõçÃÕÇêôÊÔ]"),
    "en": re.compile(r"(?!)"),
}
_WORD = re.compile(r"[a-z]+")


def language_scores(text: str) -> dict[Lang, float]:
    words = _WORD.findall(fold(text))
    scores: dict[Lang, float] = {}
    for lang in LANGUAGES:
        score = sum(1.0 for w in words if w in _MARKERS[lang])
        scores[lang] = score + LETTER_WEIGHT * len(_LETTERS[lang].findall(text))
    return scores


def detect_language(text: str, default: str = "es") -> Lang:
    """The language of `text`, or `default` when the text does not say."""
    fallback: Lang = default if default in LANGUAGES else "es"
    scores = language_scores(text)
    best = max(scores.values())
    if best <= 0:
        return fallback
    leaders = [lang for lang in LANGUAGES if scores[lang] == best]
    if fallback in leaders or len(leaders) > 1:
        return fallback if fallback in leaders else leaders[0]
    return leaders[0]


__all__ = ["LANGUAGES", "detect_language", "language_scores"]
