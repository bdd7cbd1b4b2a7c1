"""Person names from the words people put around them, without a named-entity model.

A name is one to four capitalised words ("Carmen Ruiz", "João da Silva", "O'Brien") right after a
cue: an introduction ("soy", "me llamo", "aqui é o", "meu nome é", "this is", "my name is"), a
sign-off at the end of a line ("Saludos, María", "Thanks, Kevin", "Abraço, Carlos"), a dash
signature at the end of the message ("- Mike Johnson"), a greeting ("Hola Pedro,"), a title
("Sr. López", "Mrs. Kim") or a contact phrase ("ask for Maria", "falar com a Ana", "recibe: Juan").

Shop messages are full of capitalised brands and shop names ("Don Julio", "La Esperanza", "Rosie's
Diner", "Blue Door Cafe"), so a capitalised word is never enough on its own: the cue is required, a
candidate stops at a common word ("Hola", "Gracias", "Lunes", "Pedido" ...), and it is dropped when
it runs straight into a business word ("Cafe", "Tienda", "Bar" ...) or ends in a possessive "'s".
Lower-case names ("soy carmen") are not found: with no model, nothing tells them from other words.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ai.pii_nlp import fold
from ai.pii_recognizers import recognizer_result

ENTITY = "PERSON"
INTRODUCTION_SCORE = 0.85  # "soy Carmen Ruiz", "this is Sarah"
TITLE_SCORE = 0.75  # "Sr. López"
SIGNATURE_SCORE = 0.7  # "- Mike Johnson" at the end, "Thanks, Kevin"
CONTACT_SCORE = 0.7  # "ask for Maria", "recibe: Juan"
GREETING_SCORE = 0.6  # "Hola Pedro,"

# One capitalised word: "Carmen", "João", "O'Brien", "Jean-Luc", "Zé".
WORD = r"\p{Lu}(?:\p{Ll}+|['’]\p{Lu}\p{Ll}+)(?:-\p{Lu}\p{Ll}+)?(?![\p{L}\d])"
PARTICLE = r"(?:de la|de los|del|de|da|das|do|dos|van|von|di)"
NAME = rf"{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?{WORD}){{0,3}}"
PARTICLES = frozenset({"de", "la", "los", "del", "da", "das", "do", "dos", "van", "von", "di"})
TITLE = r"(?:Sr|Sra|Srta|Lic|Ing|Mr|Mrs|Ms|Miss)\.?"  # alone, case-sensitive; not "Don"/"Dona": brands
# After a cue any title will do, with its article: "soy la señora Martínez", "falar com o seu João".
CUED_TITLE = (
    r"(?:(?:(?i:la|el|o|a)[ \t]+)?(?i:señora|señor|senora|senor|senhora|senhor|sra|sr|srta|don|doña|dona|seu"
    r"|lic|ing|mr|mrs|ms|miss)\.?[ \t]+)"
)
PHONE_TAIL = r"(?:[ \t]*[,;/|:\-–—]?[ \t]*\+?\(?\d[\d \t().\-]{6,}\d)?"  # "- Dana, 555-867-5309"
END_OF_LINE = rf"(?={PHONE_TAIL}[ \t]*[.!]*[ \t]*(?:\n|\Z))"
TRAILER = rf"(?={PHONE_TAIL}[\s.!\p{{So}}\p{{Sk}}\p{{Cf}}]*\Z)"  # only a phone, punctuation, emoji or space until the end

INTRODUCTION_CUES = (
    r"soy|me llamo|mi nombre es|le habla|les habla|te habla|habla|le escribe|les escribe|te escribe"
    r"|de parte de|a nombre de|this is|it's|it’s|it is|i'm|i’m|i am|my name is|my name's|name is|me chamo"
    r"|meu nome é|meu nome e"
)
PT_INTRODUCTION_CUES = r"aqui é|aqui e|aqui quem fala é|quem fala é|quem fala|fala|sou"  # may take "o"/"a"
SIGN_OFFS = (
    r"gracias|muchas gracias|mil gracias|saludos|saludos cordiales|un saludo|atte|att|atentamente|thanks"
    r"|thank you|thanks a lot|thx|ty|cheers|regards|best regards|kind regards|best|obrigado|obrigada"
    r"|muito obrigado|muito obrigada|grato|grata|valeu|abraço|abraços|abraco|um abraço|abs|bjs|beijos"
    r"|atenciosamente"
)
GREETINGS = r"hola|hi|hey|hello|oi|olá|ola|buen día|buen dia|buenos días|buenos dias|bom dia"
CONTACT_CUES = (
    r"ask for|call|text|attn|attention|contact|preguntar por|pregunten por|pregunta por|buscar a|hablar con"
    r"|llamar a|atención|contacto|recibe|quien recibe|entregar a|nombre|falar com|procurar|perguntar por"
    r"|ligar para|contato|quem recebe|nome|name"
)

# (pattern name, regex with the name in group "name", score); cues ignore case, names do not.
CUE_PATTERNS = (
    ("introduction", rf"(?<!\w)(?i:{INTRODUCTION_CUES})[ \t,:]+{CUED_TITLE}?(?P<name>{NAME})",
     INTRODUCTION_SCORE),
    ("pt_introduction", rf"(?<!\w)(?i:{PT_INTRODUCTION_CUES})[ \t]+(?:{CUED_TITLE}|(?i:o|a)[ \t]+)?"
     rf"(?P<name>{NAME})", INTRODUCTION_SCORE),
    ("title", rf"(?<!\w){TITLE}[ \t]+(?P<name>{NAME})", TITLE_SCORE),
    ("sign_off", rf"(?<!\w)(?i:{SIGN_OFFS})[ \t]*[.,!:\-–—]*\s+{CUED_TITLE}?(?P<name>{NAME}){END_OF_LINE}", SIGNATURE_SCORE),
    ("dash_signature", rf"(?:^|(?<=\s))(?P<dash>[-–—~]{{1,2}})[ \t]*(?P<name>{NAME}){TRAILER}", SIGNATURE_SCORE),
    ("greeting", rf"(?<!\w)(?i:{GREETINGS})[ \t,]+{CUED_TITLE}?(?P<name>{NAME})(?=[ \t]*(?:[,!.:]|\n|\Z))", GREETING_SCORE),
    ("contact", rf"(?<!\w)(?i:{CONTACT_CUES})[ \t]*:?[ \t]+(?:{CUED_TITLE}|(?i:o|a|el|la)[ \t]+)?(?P<name>{NAME})",
     CONTACT_SCORE),
)

# Capitalised words that are not names: a candidate stops before the first of these (folded).
STOP_WORDS = frozenset("""
hola buenas buenos buen bom boa dia dias tardes tarde noches noite gracias saludos favor porfa hi hey hello
thanks thank please oi ola obrigado obrigada valeu abraco abracos att atte team equipo equipe amigo amiga
joven senor senora sir maam jefe patron boss guys todos gente pessoal galera everyone
el la los las un una uno o a os as um uma the an y e and or por para con com en em no na in on at for from
to of mi mis me my our your su sus tu seu sua meu minha yo eu i we you it this that esta este isso aqui
here ya ja si sim yes ok okay not nao tambien also just only solo so
necesito necesitamos quiero queremos manda mandame mande mandeme mandar mandan envia enviar envien pedido
pedidos orden order orders need send deliver can could would add cancel change quero preciso precisamos
tienen tem have has is are es soy sou estoy estou llego chegou hoy manana ayer today tomorrow tonight
hoje amanha ontem urgente urgent asap pago pagar total cuenta factura nota
sr sra srta lic ing mr mrs ms miss dr dra senor senora senhor senhora don dona seu
lunes martes miercoles jueves viernes sabado domingo monday tuesday wednesday thursday friday saturday
sunday segunda terca quarta quinta sexta enero febrero marzo abril mayo junio julio agosto septiembre
octubre noviembre diciembre january february march april may june july august september october november
december janeiro fevereiro marco maio junho julho setembro outubro novembro dezembro
""".split())
# Grocery nouns that start product lines ("- Jugo Del Valle", "Leche Lala"): never part of a name.
PRODUCT_WORDS = frozenset("""
agua jugo leche pan refresco refrescos cerveza cervezas caja cajas paquete paquetes bolsa bolsas botella
botellas lata latas galletas arroz frijol azucar aceite cafe harina huevo huevos queso crema yogurt
papel jabon cloro detergente suco leite cerveja caixa caixas fardo fardos feijao acucar oleo farinha ovo
ovos biscoito bolacha refrigerante water juice milk bread soda beer case cases box boxes bag bags bottle
bottles can cans pack packs rice sugar oil coffee flour eggs cheese cream butter chicken beef pork fries
""".split())
# Words of shop and company names: a candidate that runs straight into one is a business, not a person.
BUSINESS_WORDS = frozenset("""
tienda abarrotes miscelanea minisuper super mercado mercadito bodega restaurante restaurant cafe cafeteria
diner grill bar cantina taqueria pizzeria panaderia padaria lanchonete mercadinho emporio armazem acougue
loja depot store shop market kitchen deli bistro hotel pub company co inc llc sa cv ltda eireli
distribuidora distributor cocina cozinha farmacia pharmacy bakery grocery foods food catering club
supermercado minimercado hamburgueria churrascaria pastelaria sorveteria cerveceria
sucursal almacen matriz planta oficina filial galpao deposito mercearia quitanda boteco adega conveniencia
hortifruti sacolao atacado atacadao varejo
""".split())


class PersonRecognizer(LocalRecognizer):
    """PERSON after an introduction, sign-off, signature, greeting, title or contact cue."""

    def __init__(self, *, language: str) -> None:
        self.patterns = tuple(
            (name, re.compile(pattern, re.MULTILINE), score) for name, pattern, score in CUE_PATTERNS
        )
        super().__init__(supported_entities=[ENTITY], supported_language=language, name="PersonRecognizer")

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for pattern_name, pattern, score in self.patterns:
            for match in pattern.finditer(text):
                if pattern_name == "dash_signature" and is_list_bullet(text, match.start("dash")):
                    continue
                span = trim_name(text, match.start("name"), match.end("name"))
                if span is not None:
                    results.append(recognizer_result(self, ENTITY, span[0], span[1], score))
        return EntityRecognizer.remove_duplicates(results)


def trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name part of a candidate: cut at the first stop word, None if it is a business name."""
    kept_end: int | None = None
    after_particle = False
    for word in re.finditer(r"\S+", text[start:end]):
        folded = fold(word.group())
        if folded in PARTICLES:
            after_particle = True
            continue
        if folded in BUSINESS_WORDS:
            if not after_particle:
                return None  # "Blue Door Cafe": the whole run is a shop name
            break  # "João Pereira do Bar do Zé": the name ends before "do"
        if folded in STOP_WORDS or folded in PRODUCT_WORDS:
            break
        kept_end = start + word.end()
        after_particle = False
    if kept_end is None or text[kept_end : kept_end + 2] in ("'s", "’s"):
        return None
    return start, kept_end


def is_list_bullet(text: str, dash: int) -> bool:
    """A dash opening a line right after another "- ..." line is a list item, not a signature."""
    line_start = text.rfind("\n", 0, dash) + 1
    if text[line_start:dash].strip():
        return False  # "... if there's a problem - Mike Johnson": inline, a signature
    previous_line = text[text.rfind("\n", 0, max(line_start - 1, 0)) + 1 : max(line_start - 1, 0)]
    return previous_line.lstrip().startswith(("-", "*", "•", "–", "—"))
