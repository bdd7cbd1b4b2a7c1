"""Person names from the words people put around them, without a named-entity model.

A name is one to four capitalised words ("Carmen Ruiz", "João da Silva", "O'Brien", "Ma. Guadalupe
Hernández de la Cruz") right after a cue: an introduction ("soy", "me llamo", "aqui é o", "this
is", "name on file is"), a sign-off at the end of a line ("Saludos, María", "Thanks, Kevin"), a dash
signature at the end of the message ("- Mike Johnson"), a greeting ("Hola Pedro,"), a title or an
honorific ("Sr. López", "don Chuy", "seu Zé!"), a contact phrase ("ask for Maria", "recibe: Juan",
"Owner: Dwayne"), a relation ("mi hijo Luis", "my son Kevin", "meu sócio Rafael"), data after a
colon ("mis datos: José Torres, CURP ..."), or before "here"/"aquí" or a receiving verb ("Carlos
here", "Jamal will sign for it").

Shop messages are full of capitalised brands and shop names ("Don Julio", "La Esperanza", "Rosie's
Diner", "Blue Door Cafe"), so a capitalised word is never enough on its own: the cue is required, a
candidate stops at a common word ("Hola", "Gracias", "Lunes", "Pedido" ...), and it is dropped when
it runs straight into a business word ("Cafe", "Tienda", "Bar" ...) or ends in a possessive "'s".
Greetings, honorifics and contact cues also come before the distributor's own name and brands
("Hola Valle", "Oi Sol"): the caller passes those words (`vocabulary_words`) and such names go.
A lower-case word is a name only after a cue and only when it is a known given name
(ai.pii.first_names): "soy pedro", "hey its dave", "carlos here"; "soy el encargado" is not.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ai.catalog import Catalog
from ai.pii.first_names import first_names, is_first_name
from ai.pii.nlp import fold
from ai.pii.recognizers import recognizer_result

ENTITY = "PERSON"
INTRODUCTION_SCORE = 0.85  # "soy Carmen Ruiz", "this is Sarah", "sou o joão"
TITLE_SCORE = 0.75  # "Sr. López"
SIGNATURE_SCORE = 0.7  # "- Mike Johnson" at the end, "Thanks, Kevin", "Carlos here"
CONTACT_SCORE = 0.7  # "ask for Maria", "recibe: Juan", "mi hijo Luis", "Jamal will sign"
HONORIFIC_SCORE = 0.65  # "don Chuy", "seu Zé!": also how brands are written ("Don Julio")
GREETING_SCORE = 0.6  # "Hola Pedro,"
# Cues that also precede the distributor's own name or its brands ("Hola Valle", "don Julio"):
# detect(..., not_names=...) drops their names when every word of them is one of those.
WEAK_CUES = frozenset({"greeting", "thanks", "vocative", "honorific", "contact", "with", "pt_is", "chat_header",
                       "contact_card", "coordinated", "lower", "last_line", "from_business"})
CUE_KEY = "cue"  # the cue pattern a PERSON result came from, in its recognition_metadata
LOWER_CUE = "lower"
# Capitalised words that are codes, not names, left in capitals when a word in capitals is read as a name.
ACRONYMS = frozenset("""
RFC CURP CPF CNPJ SSN SKU EAN UPC USO CFDI IVA ISR SAT IMSS AMEX VISA ATM PIX NFE CEP USA USD MXN BRL CDMX
SHIP BILL ATTN ASAP FYI TEL CEL WPP EXP CVV CID STE APT
""".split())

# One capitalised word: "Carmen", "João", "O'Brien", "McAllister", "Jean-Luc", "Zé".
WORD = r"\p{Lu}(?:\p{Ll}+(?:\p{Lu}\p{Ll}+)?|['’]\p{Lu}\p{Ll}+)(?:-\p{Lu}\p{Ll}+)?(?![\p{L}\d])"
INITIAL = r"\p{Lu}\p{Ll}?\.(?!\p{L})"  # "J.", "Ma.": only inside a name, before another word
MIDDLE_INITIAL = r"\p{Lu}(?:\p{Ll}?\.)?(?!\p{L})"  # also bare between two words: "Claudia R Santos"
PARTICLE = r"(?:de la|de los|del|de|da|das|do|dos|van|von|di)"
NAME = rf"(?:{INITIAL}[ \t]+)?{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?(?:{MIDDLE_INITIAL}[ \t]+)?{WORD}){{0,3}}"
# A given name in lower case ("soy pedro"): only where a cue stands, and only if it is a known
# given name (ai.pii.first_names); patterns with it name the group "lower".
LOWER_NAME = r"(?P<lower>\p{Ll}[\p{Ll}'’]+)(?![\p{L}\d])"
PARTICLES = frozenset({"de", "la", "los", "del", "da", "das", "do", "dos", "van", "von", "di"})
TITLE = r"(?:Sr|Sra|Srta|Lic|Ing|Mr|Mrs|Ms|Miss)\.?"  # alone, case-sensitive; not "Don"/"Dona": brands
# After a cue any title will do, with its article: "soy la señora Martínez", "falar com o seu João".
CUED_TITLE = (
    r"(?:(?:(?i:la|el|o|a)[ \t]+)?(?i:señora|señor|senora|senor|senhora|senhor|sra|sr|srta|don|doña|dona|seu"
    r"|lic|ing|mr|mrs|ms|miss)\.?[ \t]+)"
)
ARTICLE = r"(?:(?i:o|a|el|la)[ \t]+)"
PHONE_TAIL = r"(?:[ \t]*[,;/|:\-–—]?[ \t]*\+?\(?\d[\d \t().\-]{6,}\d)?"  # "- Dana, 555-867-5309"
END_OF_LINE = rf"(?={PHONE_TAIL}[ \t]*[.!\p{{So}}\p{{Sk}}\p{{Cf}}]*[ \t]*(?:\n|\Z|\|))"  # "| 9801 Highway 290 E": a signature block
TRAILER = rf"(?={PHONE_TAIL}[\s.!\p{{So}}\p{{Sk}}\p{{Cf}}]*\Z)"  # only a phone, punctuation, emoji or space until the end
SHOP_TRAILER = (  # "- Tony Russo, Bella Napoli Pizzeria", "- Carlos at Pepe's Tacos"
    r"(?=(?:[ \t]*[,|]|[ \t]+(?i:at|from|de|da|do|del))[ \t]*(?P<shop>[^\n\d]{2,60})\Z)"
)
CLAUSE_START = r"(?:^|(?<=[.!?,;:][ \t]*)|(?<=^[ \t]+))"  # a line, sentence or clause begins
CLAUSE_END = r"(?=[ \t]*(?:[,.!;:\-–—(]|\n|\Z))"

INTRODUCTION_CUES = (
    r"soy|me llamo|mi nombre es|le habla|les habla|te habla|habla|le escribe|les escribe|te escribe"
    r"|de parte de|a nombre de|en nombre de|aquí|aqui|this is|it's|it’s|its|it is|i'm|i’m|im|i am|my name is"
    r"|my name's|name is|name on (?:the )?(?:file|account|card)(?: is)?|in the name of|under the name"
    r"|his name is|her name is|se llama|nombre en la tarjeta|me chamo|se chama|chama-se|meu nome é"
    r"|meu nome e|no nome de|em nome de|nome no cartão|nome no cartao|facturar a|factura a|bill to|invoice to"
    r"|se llamaba|ele chama|ela chama|ele se chama|ela se chama|nombre completo es|mi nombre completo es"
    r"|nome completo é|nome completo e|full name is|nombre impreso|nome impresso|cardholder|titular"
    r"|nome na nota|nombre en la factura|name on the invoice"
)
PT_INTRODUCTION_CUES = r"aqui é|aqui e|aqui quem fala é|quem fala é|quem fala|fala|sou"  # may take "o"/"a"
LOWER_INTRODUCTION_CUES = (  # where a lower-case given name is still a name: "soy pedro", "hey its dave"
    r"soy|me llamo|mi nombre es|habla|sou|me chamo|meu nome é|meu nome e|aqui é|aqui e|quem fala é"
    r"|its|it's|it’s|it is|i'm|i’m|im|i am|this is|my name is|my name's|a nombre de|en nombre de|no nome de"
    r"|em nome de|se llama|se llamaba|se chama|ele chama|ela chama|name is|nombre es|nome é"
)
SIGN_OFFS = (
    r"gracias|muchas gracias|mil gracias|saludos|saludos cordiales|un saludo|atte|att|atentamente|thanks"
    r"|thank you|thanks a lot|thx|ty|cheers|regards|best regards|kind regards|best|obrigado|obrigada"
    r"|muito obrigado|muito obrigada|grato|grata|valeu|abraço|abraços|abraco|um abraço|abs|bjs|beijos"
    r"|atenciosamente"
)
THANKS = (  # "Thanks Maria, got it", "gracias a Lupita de cobranza", "shoutout to Brenda in customer service"
    r"thanks|thank you|thx|gracias|muchas gracias|obrigado|obrigada|valeu|agradecer|agradezco|agradeço"
    r"|shoutout|shout out|kudos|appreciate|appreciated|agradecido|agradecida"
)
GREETINGS = (
    r"hola|hi|hey|hello|oi|olá|ola|buen día|buen dia|buenos días|buenos dias|bom dia|qué onda|que onda|qué tal"
    r"|que tal|e aí|e ai|eai|morning|good morning|afternoon|good afternoon|evening|good evening|buenas tardes"
    r"|buenas noches|buenas|boa tarde|boa noite"
)
# Words that follow a name in a greeting said without commas: "qué onda Beto como estás", "oi Bia tudo bem".
GREETING_FOLLOWERS = r"como|cómo|tudo|td|how|buenas|buenos|buen|bom|boa|qué|que tal|good|pela|pelo|por|for"
CONTACT_CUES = (
    r"ask for|call|text|attn|attention|contact|preguntar por|pregunten por|pregunta por|buscar a|hablar con"
    r"|llamar a|atención|contacto|recibe|quien recibe|entregar a|nombre|falar com|procurar|perguntar por"
    r"|ligar para|contato|quem recebe|recebe|(?<!fantasia |comercial )nome|(?<!business |company |store |shop )name"
    r"|receiver|recipient|owner|dueño|dueña|dono|titular"
    r"|responsable|responsável|responsavel|tell|billing contact|contact person|dile a|dígale a|digale a"
    r"|avísale a|avisale a|fala pro|fala pra|diz pro|diz pra|avisa o|avisa a|le dije a|les dije a"
    r"|le pregunté a|le pregunte a|falei com|falei pro|falei pra|told|dejas a|dejan a|deja a|déjaselo a"
    r"|dejaselo a|deixa com|deixar com|leave it with|leave them with"
)
# People the customer names by how they relate to the shop: "mi hijo Luis", "my son Kevin",
# "meu sócio Rafael", "a gerente, a patrícia".
RELATIONS = (
    r"hijo|hija|hermano|hermana|esposo|esposa|marido|mujer|socio|socia|primo|prima|tío|tio|tía|tia|sobrino"
    r"|sobrina|papá|mamá|compadre|comadre|empleado|empleada|encargado|encargada|gerente|cajero|cajera|chofer"
    r"|son|daughter|brother|sister|wife|husband|partner|cousin|uncle|aunt|nephew|niece|manager|employee"
    r"|cashier|filho|filha|irmão|irmao|irmã|irma|sócio|sócia|funcionário|funcionario|funcionária|funcionaria"
    r"|sobrinho|sobrinha|pai|mãe|mae|motorista|dueño|dueña|dono|repartidor|repartidora|entregador"
    r"|entregadora|driver|vendedor|vendedora|salesman|rep|cuñado|cuñada|suegro|suegra|cunhado|cunhada"
    r"|sogro|sogra|brother-in-law|sister-in-law|chef|sous chef|cook|cocinero|cocinera|cozinheiro|cozinheira"
    r"|boyfriend|girlfriend|novio|novia|namorado|namorada|friend|amigo|amiga|vecino|vecina|vizinho|vizinha"
    r"|owner|bookkeeper|accountant|contador|contadora|secretaria|secretary|assistant|asistente"
)
# "o entregador de vocês, o Zé", "el chofer de hoy, Ramiro", "the driver from yesterday, Kevin"
OF_YOURS = r"(?:[ \t]+(?i:de|da|do|from)[ \t]+\p{L}+)?"
POSSESSIVES = r"mi|my|meu|minha|nuestro|nuestra|our|el|la|o|a|the|tu|your|seu|sua|su|his|her|their"
HONORIFICS = (  # not "Dr": Dr Pepper
    r"don|doña|dona|seu|señor|señora|senhor|senhora|sr|sra|srta|doctor|doctora|doutor|doutora|licenciado"
    r"|licenciada|ingeniero|ingeniera|lic|ing|profe|profesor|profesora|professor|professora"
)
# Data handed over after a colon: "mis datos para el crédito: José Torres, CURP ...".
DATA_CUES = (
    r"datos|dados|cadastro|registro|application|details|info|información|informacion|nombre completo"
    r"|nome completo|full name|estos datos|esses dados|these details|alta|cliente nuevo|cliente novo"
    r"|a mi nombre|en mi nombre|no meu nome|em meu nome|in my name|guarantor|fiador|avalista|garante"
)
# A name that goes on to say what it will do with the delivery: "Jamal will sign for it".
RECEIVING_VERBS = (
    r"will sign|will receive|will get it|will pick|will be there|is receiving|signs for|va a recibir|recibe"
    r"|will be placing|will place|will order|will be ordering|will call|will pay|can sign|va a pedir|va a pagar"
    r"|vai pedir|vai pagar"
    r"|recibirá|va a firmar|firma|vai receber|recebe|vai assinar|assina"
)

# (pattern name, regex with the name in group "name" or a given name in group "lower", score);
# cues ignore case, names do not.
CUE_PATTERNS = (
    ("introduction", rf"(?<!\w)(?i:{INTRODUCTION_CUES})[ \t,:]+{CUED_TITLE}?(?P<name>{NAME})",
     INTRODUCTION_SCORE),
    ("pt_introduction", rf"(?<!\w)(?i:{PT_INTRODUCTION_CUES})[ \t]+(?:{CUED_TITLE}|{ARTICLE})?"
     rf"(?P<name>{NAME})", INTRODUCTION_SCORE),
    ("lower_introduction", rf"(?<!\w)(?i:{LOWER_INTRODUCTION_CUES})[ \t,:]+"
     rf"(?:(?i:me|yo|eu)[ \t]+(?:(?i:again|de nuevo|de novo|otra vez)[ \t]+)?)?(?:{CUED_TITLE}|{ARTICLE})?{LOWER_NAME}",
     INTRODUCTION_SCORE),
    ("title", rf"(?<!\w){TITLE}[ \t]+(?P<name>{NAME})", TITLE_SCORE),
    # "this is mrs. okafor": after an introduction a title makes any lower-case word a surname
    ("titled_lower", rf"(?<!\w)(?i:{INTRODUCTION_CUES})[ \t,:]+{CUED_TITLE}(?P<surname>\p{{Ll}}[\p{{Ll}}'’\-]+)(?![\p{{L}}\d])",
     TITLE_SCORE),
    ("honorific", rf"(?<!\w)(?P<honorific>(?i:{HONORIFICS}))\.?[ \t]+(?P<name>{NAME})(?![ \t]*\d)", HONORIFIC_SCORE),
    ("sign_off", rf"(?<!\w)(?i:{SIGN_OFFS})[ \t]*[.,!:\-–—]*\s+{CUED_TITLE}?(?P<name>{NAME}){END_OF_LINE}", SIGNATURE_SCORE),
    ("dash_signature", rf"(?:^|(?<=\s))(?P<dash>[-–—~]{{1,2}})[ \t]*(?P<name>{NAME})(?:{TRAILER}|{SHOP_TRAILER})",
     SIGNATURE_SCORE),
    ("here", rf"{CLAUSE_START}(?:(?P<name>{NAME})|{LOWER_NAME})[ \t]+(?i:here|aquí|aqui)"
     rf"(?:{CLAUSE_END}|(?=[ \t]+(?i:from|de|da|do|del)(?!\w)))",
     SIGNATURE_SCORE),
    ("greeting", rf"(?<!\w)(?i:{GREETINGS})[ \t,]+{CUED_TITLE}?(?P<name>{NAME})"
     rf"(?=[ \t]*(?:[,!.:]|\n|\Z)|[ \t]+(?i:{GREETING_FOLLOWERS})(?!\w))", GREETING_SCORE),
    ("contact", rf"(?<!\w)(?i:{CONTACT_CUES})(?:[ \t]+(?i:there|here|ahí|aqui|hoy|hoje|today|mañana|amanhã|tomorrow))?(?:[ \t]+(?i:is|es|é|e))?[ \t]*:?[ \t]+"
     rf"(?:{CUED_TITLE}|{ARTICLE})?(?:(?P<name>{NAME})|{LOWER_NAME})", CONTACT_SCORE),
    ("with", rf"(?<!\w)(?i:con|com|with)[ \t]+{ARTICLE}?(?P<name>{NAME})(?=[ \t]*(?:[,.!;]|\n|\Z)"
     rf"|[ \t]+(?i:el|la|o|a|the|our|your|nuestro|nosso)[ \t]+(?i:{RELATIONS})(?!\w))", CONTACT_SCORE),
    ("thanks", rf"(?<!\w)(?i:{THANKS})[ \t,]+(?:(?i:a|to|ao|à|al)[ \t]+)?{CUED_TITLE}?(?!(?:Dios|Deus|God)\b)(?P<name>{NAME})"
     rf"(?=[ \t]*[,!.]|[ \t]+(?i:pela|pelo|por|for|de|da|do|del|in|on|from|at)(?!\w))", GREETING_SCORE),
    ("vocative", rf"(?<!\w)(?i:{THANKS})\b[^.!?\n,]{{0,60}},[ \t]*(?P<name>{NAME})(?=[ \t]*(?:[.!]|\n|\Z))",
     GREETING_SCORE),  # "Obrigado pela paciência ontem, Marcos."
    # a full name alone on the last line, after a sentence: "... el martes.\nLuis Enríquez"
    ("last_line", rf"(?<=[.!?\p{{So}}][ \t]*\n[ \t]*)(?P<name>{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?{WORD}){{1,3}})[ \t]*\Z",
     SIGNATURE_SCORE),
    ("vcard", rf"^[ \t]*(?:FN|N)(?:;[^:\n]*)?:[ \t]*(?P<name>{NAME})[ \t]*$", INTRODUCTION_SCORE),  # "FN:Priya Raman"
    ("chat_header", rf"^[ \t]*\[[^\]\n]{{3,30}}\][ \t]*(?P<name>{NAME})[ \t]*:", SIGNATURE_SCORE),
    ("contact_card", rf"^[ \t]*(?:[\p{{So}}\p{{Sk}}\p{{Cf}}][ \t]*)*(?P<name>{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?(?:{MIDDLE_INITIAL}[ \t]+)?{WORD}){{1,3}})[ \t]*\n"
     rf"(?=[ \t]*[^\n]*(?:\+?\(?\d[\d \t().\-]{{7,}}\d|@|(?i:chef|gerente|manager|owner|director|directora|diretor"
     rf"|diretora|compras|purchasing|sales|ventas|vendas|encargad[oa]|dueñ[oa]|propietari[oa]|sócio|socio)))",
     SIGNATURE_SCORE),
    ("pt_is", rf"{CLAUSE_START}(?i:é|sou)[ \t]+(?i:o|a)[ \t]+(?P<name>{NAME})", INTRODUCTION_SCORE),
    ("relation", rf"(?<!\w)(?i:{POSSESSIVES})[ \t]+(?:\p{{Ll}}+[ \t]+){{0,2}}(?i:{RELATIONS}){OF_YOURS}"
     rf"(?:[ \t]+(?i:is|es|é|será|will be))?[ \t]*,?[ \t]+{ARTICLE}?"
     rf"(?:(?P<name>{NAME})|{LOWER_NAME})", CONTACT_SCORE),
    ("data", rf"(?<!\w)(?i:{DATA_CUES})[^:\n]{{0,30}}:[ \t]*\n?[ \t]*(?P<name>{NAME})(?=[ \t]*(?:[,;\n]|\Z))", CONTACT_SCORE),
    ("apposition", rf"(?P<name>{NAME})[ \t]*[,(][ \t]*(?i:el|la|o|a|the|our|my|mi|meu|minha|nuestro|nosso|nossa)[ \t]+"
     rf"(?:\p{{Ll}}+[ \t]+)?(?i:{RELATIONS})(?!\w)", CONTACT_SCORE),
    ("let_know", rf"(?<!\w)(?i:let)[ \t]+(?P<name>{NAME})[ \t]+(?i:know)(?!\w)", CONTACT_SCORE),  # "let Carlos know"
    # "Oi! Patrícia da Lanchonete Sabor Mineiro.": a name, then the business it writes from
    ("from_business", rf"{CLAUSE_START}(?P<name>{NAME})[ \t]+(?i:from|de|da|do|del)[ \t]+(?P<business>[^\n.,!?;:]{{2,50}})",
     CONTACT_SCORE),
    ("receiving", rf"{CLAUSE_START}(?P<name>{NAME})[ \t]+(?i:{RECEIVING_VERBS})(?!\w)", CONTACT_SCORE),
)

# Capitalised words that are not names: a candidate stops before the first of these (folded).
STOP_WORDS = frozenset("""
hola buenas buenos buen bom boa dia dias tardes tarde noches noite gracias saludos favor porfa hi hey hello
thanks thank please oi ola obrigado obrigada valeu abraco abracos att atte team equipo equipe amigo amiga
joven senor senora sir maam jefe patron boss guys todos gente pessoal galera everyone
quien quem who alguien alguem someone somebody nadie ninguem nobody
oiga oigan oye mire mira fijate ojo olha escuta veja listen look btw ps fyi
now ahora agora ready listo pronto done late tarde early
lo le les se te nos ele ela he she they him her them facturar facturen facture facturas faturar
accounts account payable receivable cuentas contas billing department departamento management gerencia
nombre nome name sobre about acerca que como cuando donde cual quando onde qual which when where what whom
executive chef manager gerente director directora diretor diretora owner purchasing sales ventas vendas
supervisor supervisora encargado encargada
el la los las un una uno o a os as um uma the an y e and or por para con com en em no na in on at for from
to of mi mis me my our your su sus tu seu sua meu minha yo eu i we you it this that esta este isso aqui
here ya ja si sim yes ok okay not nao tambien also just only solo so
necesito necesitamos quiero queremos manda mandame mande mandeme mandar mandan envia enviar envien pedido
pedidos orden order orders need send deliver can could would add cancel change quero preciso precisamos
tienen tem have has is are es soy sou estoy estou llego chegou hoy manana ayer today tomorrow tonight
hoje amanha ontem urgente urgent asap pago pagar total cuenta factura nota
sr sra srta lic ing mr mrs ms miss dr dra senor senora senhor senhora don dona seu
lunes martes miercoles jueves viernes sabado domingo monday tuesday wednesday thursday friday saturday
sunday segunda terca quarta quinta sexta enero febrero marzo mayo junio agosto septiembre
octubre noviembre diciembre january february march may june july august september october november
december janeiro fevereiro maio junho julho setembro outubro novembro dezembro
""".split())  # not "julio", "marco" (março), "abril", "april": given names as well
# Grocery nouns that start product lines ("- Jugo Del Valle", "Leche Lala"): never part of a name.
PRODUCT_WORDS = frozenset("""
agua jugo leche pan refresco refrescos cerveza cervezas caja cajas paquete paquetes bolsa bolsas botella
botellas lata latas galletas arroz frijol azucar aceite cafe harina huevo huevos queso crema yogurt
papel jabon cloro detergente suco leite cerveja caixa caixas fardo fardos feijao acucar oleo farinha ovo
ovos biscoito bolacha refrigerante water juice milk bread soda beer case cases box boxes bag bags bottle
bottles can cans pack packs rice sugar oil coffee flour eggs cheese cream butter chicken beef pork fries
tequila mezcal vodka ron whisky vino vinho garrafon garrafa garrafones hielo gelo carbon carvao margarina
copo copos vaso vasos tortilla tortillas queijo mozzarella cheddar limes lemons tomatoes onions lettuce
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
financeiro financiero contabilidad contabilidade compras almoxarifado cobranza cobranca
comercializadora comercial grupo servicios industrias corporativo empresa empresas sociedad papeleria
ferreteria tortilleria carniceria recauderia fruteria cremeria distribuidor distribuidores
""".split())


class PersonRecognizer(LocalRecognizer):
    """PERSON after an introduction, sign-off, signature, greeting, title, contact or relation cue."""

    def __init__(self, *, language: str) -> None:
        self.patterns = tuple(
            (name, re.compile(pattern, re.MULTILINE), score) for name, pattern, score in CUE_PATTERNS
        )
        first_names()  # read Faker's lists now, at start-up, not on the first message that needs them
        super().__init__(supported_entities=[ENTITY], supported_language=language, name="PersonRecognizer")

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        text = unshout(text)
        for pattern_name, pattern, score in self.patterns:
            for match in pattern.finditer(text):
                if pattern_name == "dash_signature" and (
                    is_list_bullet(text, match.start("dash"))
                    or (match.group("shop") is not None and not names_a_business(match.group("shop")))
                ):
                    continue
                if pattern_name == "honorific" and not honorific_names_a_person(text, match):
                    continue
                if pattern_name == "from_business" and not names_a_business(match.group("business")):
                    continue
                span = name_span(text, match)
                # a lower-case given name can be a brand too ("con victoria"): weak but after an introduction
                lower = match.groupdict().get("lower") is not None and pattern_name != "lower_introduction"
                cue = LOWER_CUE if lower else pattern_name
                while span is not None:  # "la Cláudia ou o Wellington": the names joined to it too
                    result = recognizer_result(self, ENTITY, span[0], span[1], score)
                    result.recognition_metadata[CUE_KEY] = cue
                    results.append(result)
                    joined = COORDINATED.match(text, span[1])
                    span = trim_name(text, joined.start("name"), joined.end("name")) if joined else None
                    cue = "coordinated"
        return EntityRecognizer.remove_duplicates(results)


def unshout(text: str) -> str:
    """Words in capitals, written as a name would be so that the cues apply: in a message all in
    capitals every word ("PREGUNTAR POR JAVIER" -> "Preguntar Por Javier"), otherwise each word of
    three capitals or more that is no acronym ("a nombre de MARÍA TORRES"). A character whose case
    mapping changes its length is left as it is: offsets must not move."""
    if any(ch.islower() for ch in text):
        return str(CAPITALS.sub(lambda m: capitalised(m.group()), text))
    if not any(ch.isupper() for ch in text):
        return text
    chars = []
    previous_is_letter = False
    for i, ch in enumerate(text):
        alone = not previous_is_letter and not text[i + 1 : i + 2].isalpha()  # "A", "Y", "E", "O": small words
        mapped = ch if not ch.isalpha() else (ch.lower() if previous_is_letter or alone else ch.upper())
        chars.append(mapped if len(mapped) == 1 else ch)
        previous_is_letter = ch.isalpha() or ch in "'’"
    return "".join(chars)


CAPITALS = re.compile(r"(?<![\p{L}\d])\p{Lu}{3,}(?![\p{L}\d])")  # a word of three capitals or more
LOWER_SURNAME = re.compile(  # one lower-case word after given names, then "from/de/do ..." or a stop
    r"[ \t]+(\p{Ll}[\p{Ll}'’]+)(?=[ \t]*(?:[,.;:!?]|\n|\Z)|[ \t]+(?:from|de|del|da|do|of|at|here|aqui|aquí)(?!\w))"
)
COORDINATED = re.compile(  # not "y Coca Cola 3 cajas": a count or size after it makes it goods
    rf"[ \t]*,?[ \t]+(?i:y|e|o|ou|or|and|&)[ \t]+(?:(?i:a|ao|à|al|to)[ \t]+)?{ARTICLE}?(?P<name>(?>{NAME}))(?![ \t]*\d)"
)
LOWER_GIVEN_NAMES = re.compile(r"[ \t]+(\p{Ll}[\p{Ll}'’]+)(?![\p{L}\d])")


def capitalised(word: str) -> str:
    """"MARÍA" -> "María" in a message that is not all capitals; acronyms ("RFC", "CURP") stay."""
    if word in ACRONYMS:
        return word
    mapped = word[0] + word[1:].lower()
    return mapped if len(mapped) == len(word) else word


def name_span(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """The name a cue pattern matched: a capitalised run trimmed, or a known lower-case given name."""
    groups = match.groupdict()
    surname = groups.get("surname")
    if surname is not None:
        if len(surname) < 3 or is_common_word(surname):
            return None
        return match.start("surname"), match.end("surname")
    if groups.get("name") is not None:
        return trim_name(text, match.start("name"), match.end("name"))
    lower = groups.get("lower")
    if lower is None:
        return None
    if not is_first_name(lower):
        return None
    end = match.end("lower")
    # "juan carlos méndez": the given names that follow
    while (word := LOWER_GIVEN_NAMES.match(text, end)) is not None and is_first_name(word.group(1)):
        end = word.end()
    surname = LOWER_SURNAME.match(text, end)  # "dante russo from russo's", "antônio carvalho do bar"
    if surname is not None and not is_common_word(surname.group(1)):
        end = surname.end(1)
    return match.start("lower"), end


def is_common_word(word: str) -> bool:
    folded = fold(word)
    return folded in STOP_WORDS or folded in PRODUCT_WORDS or folded in BUSINESS_WORDS or folded in PARTICLES


def honorific_names_a_person(text: str, match: re.Match[str]) -> bool:
    """"don Chuy", "Seu Antônio pediu": yes; "Abarrotes Doña Lupe", "Bar da Dona Nena": a shop's name.
    A capitalised "Don"/"Dona" opens brands too ("Don Julio 70"), so then the name must end a clause
    or be followed by a lower-case word, as a subject is by its verb."""
    before = re.findall(r"\p{L}+", text[max(0, match.start() - 40) : match.start()])
    while before and fold(before[-1]) in PARTICLES:
        before.pop()
    if before and fold(before[-1]) in BUSINESS_WORDS:
        return False
    if match.group("honorific")[0].islower():
        return True
    return re.match(r"[ \t]*(?:[,.!?;:]|\n|\Z|\p{Ll})", text[match.end("name") :]) is not None


def names_a_business(words: str) -> bool:
    """"Bella Napoli Pizzeria", "Pepe's Tacos": a business word, or someone's place ("X's")."""
    return bool(re.search(r"\p{L}['’]s(?!\p{L})", words)) or any(
        fold(word) in BUSINESS_WORDS for word in re.findall(r"\p{L}+", words))


def weak_cue(result: RecognizerResult) -> bool:
    """Found after a cue that also precedes brands and the distributor's own name."""
    return (result.recognition_metadata or {}).get(CUE_KEY) in WEAK_CUES


def vocabulary_words(*texts: str) -> frozenset[str]:
    """Folded capitalised words of a distributor's name and its catalog: what a weak cue may not
    call a person ("Hola Valle", "don Julio"). The cost: "Hola José" is no name at a distributor
    that sells José Cuervo."""
    return frozenset(fold(word) for text in texts for word in re.findall(r"\p{L}+", text)
                     if len(word) > 2 and word[0].isupper())


def catalog_vocabulary(catalog: Catalog) -> frozenset[str]:
    return vocabulary_words(catalog.distributor_name, *(product.name for product in catalog.products))


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
