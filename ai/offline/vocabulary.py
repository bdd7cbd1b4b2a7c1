"""Non-product words of order messages in es/en/pt: fillers, clause cues, corrections.

All entries are folded (lowercase, no accents, no apostrophes: "we'd" → "wed"), matching
the tokens the line parser produces. Multi-word cues are tuples of words.
"""

from __future__ import annotations

from collections.abc import Sequence

Cue = tuple[str, ...]


def _cues(text: str) -> tuple[Cue, ...]:
    """One cue per line of `text`; longest first so that "me liga" wins over "me"."""
    cues = {tuple(line.split()) for line in text.strip().splitlines() if line.strip()}
    return tuple(sorted(cues, key=len, reverse=True))


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


# Greetings, politeness, order verbs and pronouns: stripped from the edges of product phrases.
FILLERS = frozenset(
    """
    hola holi ey buenas buenos buen bueno dia dias tardes noches tal saludos gracias muchas porfa porfis
    porfavor favor xfa xf pf plis please pls plz kindly thanks thank thx ty hi hello hey yo good
    morning afternoon evening oi ola bom boa tarde noite obrigado obrigada valeu vlw blz beleza pfv
    me te le nos les mi mis yo i we id wed ill well im us my our eu mim you
    manda mandame mandeme mandas mandan mande manden mandar mandarme mandan envia enviame envias
    envien enviar enviarme envie trae traeme traer traigan traz traga trazer traes traen llevas lleva llevan
    llevar levar leva necesito necesitamos
    necesitaria ocupo ocupamos quiero queremos quisiera quisieramos queria quero gostaria apunta
    apuntame apuntas apunten anota anotame anotas anoten anote agrega agregame agregas agreguen
    agregar anade anademe sumale suma pon ponme ponle pongan pido pedimos pedir pedido pedidos orden
    dame deme denme surte surteme preciso precisamos coloca coloque adiciona acrescenta separa ve
    encomenda can could would will get give send bring add need needs want wants like order
    ordering put also too just more some again usual tambien tmb tb tbm tmbn ademas mas mais tambem wait otra vez x
    u ya yall guys were out ran run running low se acabo acabaron acabou quedamos hacer fazer place make
    do does have has any carry tienen tienes tiene hay manejan venden tem voces vcs vc voce if so then entonces
    entao cuanto cuesta cuestan how much is quanto custa custam price precio preco valor
    puedes pueden podrias podrian puede pode podem poderia si ok oki va listo ai aqui lo siguiente
    following these this esto isso isto uns umas aprox aproximadamente about around approximately nao
    uh uhh um umm eh ehh hmm mmm este tipo ne ahi sabes viste pasame pasenme echame echas echa gimme lemme ea
    """.split()
)

CONJUNCTIONS = frozenset({"y", "e", "and", "plus"})

# Purpose and destination words: what follows them in a line ("pa la fiesta", "to our second
# location", "al pedido de ...") is rarely product words; the matcher decides (ai.matching.lines).
TAIL_STARTS = frozenset({"para", "pa", "pra", "pro", "for", "to", "al", "ao", "at",
                         # what follows a line in a run-on message: "... pero ahora a la sucursal nueva",
                         # "1 cs tortillas before lunch rush", "butter by fri", "corona cuando pases"
                         "pero", "but", "before", "after", "by", "until", "cuando", "quando", "when",
                         "que", "porque", "because", "antes", "despues", "depois",
                         # "como el mes pasado", "like last time", "igual que la otra vez"
                         "como", "like", "igual", "same"})

# "2 cases each", "2 de cada uno", "2 de cada": one count for every product named before it.
EACH_WORDS = frozenset({"each", "cada", "uno", "una", "um", "c", "cu", "apiece"})

# Generic descriptors customers add that rarely name a product ("regular fries", "coca normal").
QUALIFIERS = frozenset(
    """
    regular normal normales plain classic clasico clasica comun comum tradicional usual same mismo misma
    mesmo mesma fresh fresco fresca frozen congelado congelada big small large grande chico chica
    pequeno pequena good bueno buena bom boa nice
    """.split()
)

# Short words followed by "." that do not end a sentence.
ABBREVIATIONS = frozenset(
    "av avda ave col no num nro n st rd dr sr sra srta mr mrs ms dept apt ste blvd calz esq int ext "
    "fracc cp tel r prof dna lic ing".split()
)

# An address runs from its cue to the end of the sentence.
ADDRESS_CUES = _cues(
    """
    entregar en
    entregar na
    entregar no
    entregar em
    entrega en
    entrega na
    entrega no
    entrega em
    entreguen en
    entregas en
    deliver to
    delivery to
    delivered to
    ship to
    mi direccion
    la direccion
    direccion
    domicilio
    endereco
    meu endereco
    address
    our address
    calle
    rua
    avenida
    bairro
    colonia
    """
)

# Introductions, contact and billing details run to the next comma or conjunction.
INTRO_CUES = _cues(
    """
    soy
    habla
    le habla
    aqui es
    aca es
    aqui e
    sou
    this is
    its
    my name
    mi nombre
    me llamo
    meu nome
    """
)
CONTACT_CUES = _cues(
    """
    mi numero
    mi cel
    mi celular
    mi telefono
    mi whatsapp
    my number
    my cell
    my phone
    call me
    text me
    llamame
    llamenme
    marcame
    me liga
    liga pra mim
    meu numero
    meu celular
    meu zap
    meu whatsapp
    factura
    facturar
    facturen
    invoice
    bill to
    nota fiscal
    nota
    cpf
    cnpj
    rfc
    curp
    tarjeta
    card
    cartao
    correo
    email
    mail
    pago con
    pagar con
    pago en
    pay with
    paying with
    pagamento
    """
)

# "that's it", "eso es todo", "é isso": the customer is done; to the next comma or conjunction.
CLOSING_CUES = _cues(
    """
    thats it
    thats all
    that is all
    thats everything
    eso es todo
    es todo
    seria todo
    eso seria todo
    nada mas
    e isso
    so isso
    era isso
    """
)

# Self-corrections: the line before the cue is replaced by the one after it. The words of
# WEAK_CORRECTIONS ("mejor", "melhor", "actually") correct only right after a comma or at the start.
CORRECTION_CUES = _cues(
    """
    digo
    quise decir
    mejor dicho
    o sea
    perdon
    no mejor
    o mejor
    mejor que sean
    mejor que sea
    no mejor que sean
    mejor
    corrijo
    correccion
    i mean
    sorry i mean
    make that
    make it
    actually make it
    actually make that
    make the
    actually
    scratch that
    correction
    no wait
    quer dizer
    ou melhor
    melhor
    nao melhor
    na verdade
    desculpa
    corrigindo
    """
)

WEAK_CORRECTIONS = frozenset({"mejor", "melhor", "actually"})
# "4 cx de óleo, não, pera, 3 cx", "[10:16] sry 5 cs lids": words that correct only when a count (or a
# pack word, or another correction cue) follows them, past commas and WAIT_WORDS; "no"/"não" only
# after a comma ("no, gracias" and "no se te olvide" are not corrections).
COUNTED_CORRECTIONS = frozenset({"no", "nao", "sorry", "sry", "oops", "ops", "perdao", "alias", "err"})
COMMA_ONLY_CORRECTIONS = frozenset({"no", "nao"})
WAIT_WORDS = frozenset({"espera", "esperame", "esperate", "pera", "perai", "peraí", "wait", "aguarda"})
# Cues that correct only at the start of a sentence or after a comma ("wait, make the tomatoes 3").
WEAK_CORRECTION_CUES = frozenset({("make", "the")})

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
    "QUALIFIERS",
    "TAIL_STARTS",
    "WAIT_WORDS",
    "WEAK_CORRECTIONS",
    "WEAK_CORRECTION_CUES",
    "first_words",
    "starts_with",
]
