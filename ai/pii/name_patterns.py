"""The regular expressions of `ai.pii.names`: the shape of a name and the cue patterns around it.

The cue words come from the lexicon (ai/lexicon/<lang>/pii.toml, every language at once, see
`ai.pii.cues`); this module only arranges them. Cues ignore case, names do not: a name is one to
four capitalised words ("Carmen Ruiz", "João da Silva", "O'Brien", "Ma. Guadalupe Hernández de la
Cruz"), or, where a pattern allows it, a lower-case word in the group "lower" that
`ai.pii.names.name_span` then checks.
"""

from __future__ import annotations

from ai.pii.cues import frames, guarded_phrases, phrases

ENTITY = "PERSON"
INTRODUCTION_SCORE = 0.85  # "soy Carmen Ruiz", "this is Sarah", "sou o joão"
TITLE_SCORE = 0.75  # "Sr. López"
SIGNATURE_SCORE = 0.7  # "- Mike Johnson" at the end, "Thanks, Kevin", "Carlos here"
CONTACT_SCORE = 0.7  # "ask for Maria", "recibe: Juan", "mi hijo Luis", "Jamal will sign"
HONORIFIC_SCORE = 0.65  # "don Chuy", "seu Zé!": also how brands are written ("Don Julio")
GREETING_SCORE = 0.6  # "Hola Pedro,"

# One capitalised word: "Carmen", "João", "O'Brien", "McAllister", "Jean-Luc", "Zé".
WORD = r"\p{Lu}(?:\p{Ll}+(?:\p{Lu}\p{Ll}+)?|['’]\p{Lu}\p{Ll}+)(?:-\p{Lu}\p{Ll}+)?(?![\p{L}\d])"
INITIAL = r"\p{Lu}\p{Ll}?\.(?!\p{L})"  # "J.", "Ma.": only inside a name, before another word
MIDDLE_INITIAL = r"\p{Lu}(?:\p{Ll}?\.)?(?!\p{L})"  # also bare between two words: "Claudia R Santos"
PARTICLE = rf"(?:{phrases('name_particles')})"
NAME = rf"(?:{INITIAL}[ \t]+)?{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?(?:{MIDDLE_INITIAL}[ \t]+)?{WORD}){{0,3}}"
# A given name in lower case ("soy pedro"): only where a cue stands, and only if it is a known
# given name (ai.pii.first_names); patterns with it name the group "lower".
LOWER_NAME = r"(?P<lower>\p{Ll}[\p{Ll}'’]+)(?![\p{L}\d])"
TITLE = rf"(?:{phrases('titles')})\.?"  # alone, case-sensitive; not "Don"/"Dona": brands
# After a cue any title will do, with its article: "soy la señora Martínez", "falar com o seu João".
CUED_TITLE = rf"(?:(?:(?i:{phrases('articles')})[ \t]+)?(?i:{phrases('cued_titles')})\.?[ \t]+)"
ARTICLE = rf"(?:(?i:{phrases('articles')})[ \t]+)"
PHONE_TAIL = r"(?:[ \t]*[,;/|:\-–—]?[ \t]*\+?\(?\d[\d \t().\-]{6,}\d)?"  # "- Dana, 555-867-5309"
END_OF_LINE = rf"(?={PHONE_TAIL}[ \t]*[.!\p{{So}}\p{{Sk}}\p{{Cf}}]*[ \t]*(?:\n|\Z|\|))"  # "| 9801 Highway 290 E": a signature block
TRAILER = rf"(?={PHONE_TAIL}[\s.!\p{{So}}\p{{Sk}}\p{{Cf}}]*\Z)"  # only a phone, punctuation, emoji or space until the end
FROM = rf"(?i:{phrases('from_words')})"
SHOP_TRAILER = (  # "- Tony Russo, Bella Napoli Pizzeria", "- Carlos at Pepe's Tacos"
    rf"(?=(?:[ \t]*[,|]|[ \t]+(?i:{phrases('at_words')}|{phrases('from_words')}))[ \t]*(?P<shop>[^\n\d]{{2,60}})\Z)"
)
CLAUSE_START = r"(?:^|(?<=[.!?,;:][ \t]*)|(?<=^[ \t]+))"  # a line, sentence or clause begins
CLAUSE_END = r"(?=[ \t]*(?:[,.!;:\-–—(]|\n|\Z))"
RELATIONS = phrases("relations")
# "o entregador de vocês, o Zé", "el chofer de hoy, Ramiro", "the driver from yesterday, Kevin"
OF_YOURS = rf"(?:[ \t]+(?i:{phrases('of_words')})[ \t]+\p{{L}}+)?"
INTRODUCTION_CUES = phrases("introduction_cues")
FILLERS = rf"(?:(?i:{phrases('fillers')})[ \t,]+){{0,3}}"  # "soy este eh pancho", "this is uh thiago"
FULL_NAME = rf"{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?{WORD}){{1,3}}"  # two words or more
# Digits that may be a phone number right after a name ("Lupita 5512345678"); checked in ai.pii.names.
PHONE_AHEAD = r"(?P<phone>\+?\(?\d[\d \t().\-]{7,}\d)(?!\d)"
LET, KNOW = (
    "|".join(before for before, _ in frames("name_frames")) or "(?!)",
    "|".join(after for _, after in frames("name_frames")) or "(?!)",
)

# (pattern name, regex with the name in group "name" or a given name in group "lower", score)
CUE_PATTERNS = (
    ("introduction", rf"(?<!\w)(?i:{INTRODUCTION_CUES})[ \t,:]+{FILLERS}{CUED_TITLE}?(?P<name>{NAME})",
     INTRODUCTION_SCORE),
    ("pt_introduction", rf"(?<!\w)(?i:{phrases('article_introduction_cues')})[ \t]+(?:{CUED_TITLE}|{ARTICLE})?"
     rf"(?P<name>{NAME})", INTRODUCTION_SCORE),
    ("lower_introduction", rf"(?<!\w)(?i:{phrases('lower_introduction_cues')})[ \t,:]+{FILLERS}"
     rf"(?:(?i:{phrases('self_pronouns')})[ \t]+(?:(?i:{phrases('again_words')})[ \t]+)?)?(?:{CUED_TITLE}|{ARTICLE})?"
     rf"{LOWER_NAME}", INTRODUCTION_SCORE),
    ("title", rf"(?<!\w){TITLE}[ \t]+(?P<name>{NAME})", TITLE_SCORE),
    # "this is mrs. okafor": after an introduction a title makes any lower-case word a surname
    ("titled_lower", rf"(?<!\w)(?i:{INTRODUCTION_CUES})[ \t,:]+{CUED_TITLE}(?P<surname>\p{{Ll}}[\p{{Ll}}'’\-]+)"
     rf"(?![\p{{L}}\d])", TITLE_SCORE),
    ("honorific", rf"(?<!\w)(?P<honorific>(?i:{phrases('honorifics')}))\.?[ \t]+(?P<name>{NAME})(?![ \t]*\d)",
     HONORIFIC_SCORE),
    ("sign_off", rf"(?<!\w)(?i:{phrases('sign_offs')})[ \t]*[.,!:\-–—]*\s+{CUED_TITLE}?(?P<name>{NAME}){END_OF_LINE}",
     SIGNATURE_SCORE),
    ("dash_signature", rf"(?:^|(?<=\s))(?P<dash>[-–—~]{{1,2}})[ \t]*(?P<name>{NAME})(?:{TRAILER}|{SHOP_TRAILER})",
     SIGNATURE_SCORE),
    ("here", rf"{CLAUSE_START}(?:(?P<name>{NAME})|{LOWER_NAME})[ \t]+(?i:{phrases('here_words')})"
     rf"(?:{CLAUSE_END}|(?=[ \t]+{FROM}(?!\w)))", SIGNATURE_SCORE),
    ("greeting", rf"(?<!\w)(?i:{phrases('greetings')})[ \t,]+{CUED_TITLE}?(?P<name>{NAME})"
     rf"(?=[ \t]*(?:[,!.:]|\n|\Z)|[ \t]+(?i:{phrases('greeting_followers')})(?!\w))", GREETING_SCORE),
    ("contact", rf"(?<!\w)(?i:{guarded_phrases('contact_cues', 'contact_cue_guards')})"
     rf"(?:[ \t]+(?i:{phrases('contact_adverbs')}))?(?:[ \t]+(?i:{phrases('copulas')}))?[ \t]*:?[ \t]+"
     rf"(?:{CUED_TITLE}|{ARTICLE})?(?:(?P<name>{NAME})|{LOWER_NAME})", CONTACT_SCORE),
    ("with", rf"(?<!\w)(?i:{phrases('with_words')})[ \t]+{ARTICLE}?(?P<name>{NAME})(?=[ \t]*(?:[,.!;]|\n|\Z)"
     rf"|[ \t]+(?i:{phrases('with_determiners')})[ \t]+(?i:{RELATIONS})(?!\w))", CONTACT_SCORE),
    ("thanks", rf"(?<!\w)(?i:{phrases('thanks')})[ \t,]+(?:(?i:{phrases('to_words')})[ \t]+)?{CUED_TITLE}?"
     rf"(?!(?:{phrases('deities')})\b)(?P<name>{NAME})"
     rf"(?=[ \t]*[,!.]|[ \t]+(?i:{phrases('thanks_followers')})(?!\w))", GREETING_SCORE),
    ("vocative", rf"(?<!\w)(?i:{phrases('thanks')})\b[^.!?\n,]{{0,60}},[ \t]*(?P<name>{NAME})(?=[ \t]*(?:[.!]|\n|\Z))",
     GREETING_SCORE),  # "Obrigado pela paciência ontem, Marcos."
    # a full name alone on the last line, after a sentence: "... el martes.\nLuis Enríquez"
    ("last_line", rf"(?<=[.!?\p{{So}}][ \t]*\n[ \t]*)(?P<name>{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?{WORD}){{1,3}})"
     rf"[ \t]*\Z", SIGNATURE_SCORE),
    ("vcard", rf"^[ \t]*(?:FN|N)(?:;[^:\n]*)?:[ \t]*(?P<name>{NAME})[ \t]*$", INTRODUCTION_SCORE),  # "FN:Priya Raman"
    ("chat_header", rf"^[ \t]*\[[^\]\n]{{3,30}}\][ \t]*(?P<name>{NAME})[ \t]*:", SIGNATURE_SCORE),
    ("contact_card", rf"^[ \t]*(?:[\p{{So}}\p{{Sk}}\p{{Cf}}][ \t]*)*(?P<name>{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?"
     rf"(?:{MIDDLE_INITIAL}[ \t]+)?{WORD}){{1,3}})[ \t]*\n"
     rf"(?=[ \t]*[^\n]*(?:\+?\(?\d[\d \t().\-]{{7,}}\d|@|(?i:{phrases('role_words')})))", SIGNATURE_SCORE),
    ("pt_is", rf"{CLAUSE_START}(?i:{phrases('identity_verbs')})[ \t]+{ARTICLE}(?P<name>{NAME})", INTRODUCTION_SCORE),
    ("relation", rf"(?<!\w)(?i:{phrases('possessives')})[ \t]+(?:\p{{Ll}}+[ \t]+){{0,2}}(?i:{RELATIONS}){OF_YOURS}"
     rf"(?:[ \t]+(?i:{phrases('relation_copulas')}))?[ \t]*,?[ \t]+{ARTICLE}?"
     rf"(?:(?P<name>{NAME})|{LOWER_NAME})", CONTACT_SCORE),
    ("data", rf"(?<!\w)(?i:{phrases('data_cues')})[^:\n]{{0,30}}:[ \t]*\n?[ \t]*(?P<name>{NAME})(?=[ \t]*(?:[,;\n]|\Z))",
     CONTACT_SCORE),
    ("apposition", rf"(?P<name>{NAME})[ \t]*[,(][ \t]*(?i:{phrases('apposition_determiners')})[ \t]+"
     rf"(?:\p{{Ll}}+[ \t]+)?(?i:{RELATIONS})(?!\w)", CONTACT_SCORE),
    ("let_know", rf"(?<!\w)(?i:{LET})[ \t]+(?P<name>{NAME})[ \t]+(?i:{KNOW})(?!\w)", CONTACT_SCORE),  # "let Carlos know"
    # "Oi! Patrícia da Lanchonete Sabor Mineiro.": a name, then the business it writes from
    ("from_business", rf"{CLAUSE_START}(?P<name>{NAME})[ \t]+{FROM}[ \t]+(?P<business>[^\n.,!?;:]{{2,50}})",
     CONTACT_SCORE),
    ("receiving", rf"{CLAUSE_START}(?P<name>{NAME})[ \t]+(?i:{phrases('receiving_verbs')})(?!\w)", CONTACT_SCORE),
    # The mechanisms below also take a word no given-name list knows, when no word list knows it either
    # (ai.pii.common_words): "bjs lucineide", "- jarrah", "seu zé", "Fidencio" under a list.
    # a sign-off or a dash, then a name in lower case, at the end of the message: "atte. juan perez", "- tavish"
    ("lower_signature", rf"(?:(?<!\w)(?i:{phrases('sign_offs')})[ \t]*[.,!:\-–—]*[ \t]+|(?:^|(?<=\s))[-–—~]{{1,2}}[ \t]*)"
     rf"{LOWER_NAME}(?=(?:[ \t]+\p{{Ll}}[\p{{Ll}}'’]+)?[ \t]*[.!]*[ \t]*\Z)", SIGNATURE_SCORE),
    # an honorific typed in lower case before a lower-case name: "la sra rocio", "seu zé"
    ("lower_honorific", rf"(?<!\w)(?P<honorific>(?i:{phrases('honorifics')}|{phrases('cued_titles')}))\.?[ \t]+{LOWER_NAME}(?![ \t]*\d)",
     HONORIFIC_SCORE),
    # the last line of a list, alone: "• ketchup 1\nSiobhan" (checked: the line before counts goods)
    ("list_signature", rf"(?<=\n)[ \t]*(?:(?P<name>{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?{WORD}){{0,2}})|{LOWER_NAME})"
     rf"[ \t]*[.!]*[ \t]*\Z", SIGNATURE_SCORE),
    # a name closing the message after a sentence: "lemons x2. Mike Turner" (one word: a known given name)
    ("end_signature", rf"(?<=[.!?][ \t]+)(?P<name>{WORD}(?:[ \t]+(?:{PARTICLE}[ \t]+)?{WORD}){{0,3}})[ \t]*[.!]?[ \t]*\Z",
     SIGNATURE_SCORE),
    ("sender", rf"(?<!\w)(?i:{phrases('sender_words')})[ \t]+(?P<name>{FULL_NAME})(?=[ \t]*(?:\n|\Z|[,.!;]))",
     SIGNATURE_SCORE),  # "PO from Priya Raman"
    # a name right before a phone number: "Lupita 5512345678", "pancho: 55 1234 5678"
    ("before_phone", rf"(?:^|(?<=[\s,;(]))(?:(?P<name>{NAME})|{LOWER_NAME})[ \t]*[:,\-–—]?[ \t]*{PHONE_AHEAD}",
     CONTACT_SCORE),
    # a known given name the grammar marks as the one something goes to: "send statements to Priya now"
    ("recipient", rf"(?<!\w)(?i:{phrases('to_words')})[ \t]+(?P<name>{WORD})(?![ \t]+\p{{Lu}})", CONTACT_SCORE),
    # a known given name placed somewhere: "Jen at your front desk", "Brenda in customer service", "ao Wesley da entrega"
    ("placed", rf"(?<!\w)(?P<name>{WORD})[ \t]+(?i:{phrases('place_prepositions')})[ \t]+(?=\p{{Ll}})", CONTACT_SCORE),
    # a name the grammar marks, as the subject of a verb in the past: "Kevin left the eggs out", "y Luis pasó",
    # "o pedro entregou" (in lower case: a known given name)
    ("subject", rf"(?:{CLAUSE_START}|(?<=(?<!\w)(?i:{phrases('conjunctions')})[ \t]+))(?:(?P<name>{NAME})|{ARTICLE}?{LOWER_NAME})[ \t]+"
     rf"(?P<verb>\p{{Ll}}+)(?![\p{{L}}\d])", CONTACT_SCORE),
)
# Cues that also precede the distributor's own name or its brands ("Hola Valle", "don Julio"):
# detect(..., not_names=...) drops their names when every word of them is one of those.
WEAK_CUES = frozenset({"greeting", "thanks", "vocative", "honorific", "contact", "with", "pt_is", "chat_header",
                       "contact_card", "coordinated", "lower", "last_line", "from_business", "lower_signature",
                       "lower_honorific", "list_signature", "end_signature", "sender", "before_phone", "subject", "recipient", "placed"})
# Patterns whose lower-case word may be a name no list knows (otherwise: a known given name only).
UNKNOWN_NAME_CUES = frozenset({"lower_introduction", "lower_signature", "lower_honorific", "list_signature",
                               "relation"})
CUE_KEY = "cue"  # the cue pattern a PERSON result came from, in its recognition_metadata
LOWER_CUE = "lower"
# after given names: one lower-case word, then "from/de/do ..." or a stop ("dante russo from russo's")
LOWER_SURNAME = (
    rf"[ \t]+(\p{{Ll}}[\p{{Ll}}'’]+)(?=[ \t]*(?:[,.;:!?]|\n|\Z)|[ \t]+(?:{phrases('surname_followers')})(?!\w))"
)
COORDINATED = (  # not "y Coca Cola 3 cajas": a count or size after it makes it goods
    rf"[ \t]*,?[ \t]+(?i:{phrases('conjunctions')})[ \t]+(?:(?i:{phrases('to_words')})[ \t]+)?{ARTICLE}?"
    rf"(?P<name>(?>{NAME}))(?![ \t]*\d)"
)
