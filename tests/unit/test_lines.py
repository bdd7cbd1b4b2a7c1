"""Splitting a message into order lines."""

from __future__ import annotations

from ai.offline.lines import parse_lines, scrub, split_sentences


def summary(text: str, language: str) -> list[tuple[float | None, str]]:
    return [(line.quantity, line.phrase) for line in parse_lines(text, language)]


def test_commas_and_conjunctions() -> None:
    text = "Buenas tardes! me manda 3 cajas de coca 600 y 2 de sprite 600 porfa"
    assert summary(text, "es") == [(3.0, "coca 600"), (2.0, "sprite 600")]


def test_portuguese_e_and_number_words() -> None:
    text = "uma caixa de copo descartavel, dois fardos de papel higienico e três caixas de detergente ypê"
    assert summary(text, "pt") == [(1.0, "copo descartavel"), (2.0, "papel higienico"), (3.0, "detergente ypê")]


def test_newlines_and_bullets() -> None:
    text = "Order for Rosie's Diner:\n- 4 cases fries\n- 2 cases brioche buns\n• 6 chubs ground beef"
    lines = parse_lines(text, "en")
    assert [(line.quantity, line.unit, line.phrase) for line in lines if line.quantity] == [
        (4.0, "case", "fries"), (2.0, "case", "brioche buns"), (6.0, "chub", "ground beef"),
    ]


def test_split_on_a_new_count_without_separators() -> None:
    text = "3 bags shredded cheddar 2 mozz loaves 1 case tortillas"
    assert [(line.quantity, line.unit, line.phrase) for line in parse_lines(text, "en")] == [
        (3.0, "bag", "shredded cheddar"), (2.0, "loaf", "mozz"), (1.0, "case", "tortillas"),
    ]


def test_multiplier_lines() -> None:
    assert summary("coca 600 x 5\nfanta 600 x 2\ncoca lata x 3", "es") == [
        (5.0, "coca 600"), (2.0, "fanta 600"), (3.0, "coca lata"),
    ]


def test_self_correction_keeps_the_corrected_line() -> None:
    text = "Quiero una caja de jose cuervo reposado... digo, 6 botellas de cuervo."
    [line] = parse_lines(text, "es")
    assert (line.quantity, line.unit) == (6.0, "botella")
    assert "cuervo" in line.phrase and "reposado" not in line.phrase


def test_correction_of_the_count_only() -> None:
    [line] = parse_lines("3 cajas de coca 600, no mejor 4", "es")
    assert (line.quantity, line.phrase) == (4.0, "coca 600")


def test_distributive_each() -> None:
    assert summary("we're out of ketchup and mayo, send 2 cases each", "en") == [(2.0, "ketchup"), (2.0, "mayo")]
    assert summary("send 1 case each of ketchup, mayo and ranch", "en") == [
        (1.0, "ketchup"), (1.0, "mayo"), (1.0, "ranch"),
    ]


def test_count_after_the_product_in_another_clause() -> None:
    assert summary("We're running low on buns, send 3 cases asap", "en") == [(3.0, "buns")]


def test_contact_address_and_billing_clauses_are_not_lines() -> None:
    text = ("Deliver to 1458 W Fulton St, Chicago, IL 60607. We need 1 case of large eggs. "
            "Invoice to ap@rosiesdiner.com")
    assert summary(text, "en") == [(1.0, "large eggs")]
    text = "20 sacos de gelo e 10 de carvão, entregar na Rua Augusta 1500, São Paulo"
    assert summary(text, "pt") == [(20.0, "gelo"), (10.0, "carvão")]
    text = "Me liga no (11) 98765-4321 pra confirmar o pedido de 6 fardos de água"
    assert summary(text, "pt") == [(6.0, "água")]
    text = "Necesito 3 cajas de leche entera, pago con tarjeta 4152 3131 0000 1234"
    assert summary(text, "es") == [(3.0, "leche entera")]


def test_intro_clause_is_not_a_line() -> None:
    text = "Oi, aqui é o João Pereira do Bar do Zé. Quero 2 fardos de arroz tio joão"
    assert summary(text, "pt") == [(2.0, "arroz tio joão")]


def test_address_stops_at_the_next_counted_line() -> None:
    assert summary("Please deliver to 200 N Main St. 2 cases fries, 1 case bacon", "en") == [
        (2.0, "fries"), (1.0, "bacon"),
    ]


def test_dates_are_cut_out_of_lines() -> None:
    text = "Necesito 5 rejas de huevo y 2 fardos de arroz para mañana temprano"
    assert summary(text, "es") == [(5.0, "huevo"), (2.0, "arroz")]
    assert summary("Please add 1 case of ranch to tomorrow's order", "en") == [(1.0, "ranch")]


def test_redaction_placeholders_are_ignored() -> None:
    text = "<PERSON> aquí, 4 cajas de leche lala, mi cel <PHONE_NUMBER>"
    assert summary(text, "es") == [(4.0, "leche lala")]


def test_line_text_is_the_customers_words() -> None:
    [line] = parse_lines("me apuntas 2 cajas de takis xfa", "es")
    assert line.text == "2 cajas de takis"


def test_scrub_keeps_offsets() -> None:
    text = "llámame al 55 4321 8765 o a ana@x.mx"
    cleaned = scrub(text)
    assert len(cleaned) == len(text)
    assert "4321" not in cleaned and "@" not in cleaned


def test_sentences_know_their_question_mark() -> None:
    sentences = split_sentences("¿Tienen Topo Chico? Mándame 2 cajas. Av. Reforma 10")
    assert [s.terminator for s in sentences][:2] == ["?", "."]
    assert sentences[-1].text.strip() == "Av. Reforma 10"  # "Av." does not end a sentence


def test_nothing_to_parse() -> None:
    assert parse_lines("", "es") == []
    assert parse_lines("thanks!!", "en") == []


def test_weights_split_lines_like_counts() -> None:
    text = "need 30 lb of brisket and 2 bags of parmesan asap"
    assert [(line.quantity, line.unit, line.phrase) for line in parse_lines(text, "en")] == [
        (30.0, "lb", "brisket"), (2.0, "bag", "parmesan"),
    ]
    text = "mándame 2 cajas de coca, 5 kg de queso 3 cajas de takis"
    assert summary(text, "es") == [(2.0, "coca"), (5.0, "queso"), (3.0, "takis")]
    text = "preciso 2 caixas de heineken, uns 3 kg de linguiça"
    assert summary(text, "pt") == [(2.0, "heineken"), (3.0, "linguiça")]


def test_a_weight_is_not_lost_to_a_later_number() -> None:
    # "15 de ..." is not the count of "5 kg de queso": the weight is its amount
    lines = parse_lines("quiero 5 kg de queso oaxaca para el 15 de diciembre", "es")
    assert (lines[0].quantity, lines[0].unit, lines[0].phrase) == (5.0, "kg", "queso oaxaca")


def test_chat_spellings_of_de_and_tambien() -> None:
    text = "mandame 3 cjas d sabritas y 3 d doritos, y tmb 2 d gansitos"
    assert summary(text, "es") == [(3.0, "sabritas"), (3.0, "doritos"), (2.0, "gansitos")]


def test_an_uncounted_parenthesis_qualifies_the_line_before_it() -> None:
    lines = parse_lines("gloves x 6 (large), foil x 3, sanitizer x 2", "en")
    assert [(line.quantity, line.phrase, line.aside) for line in lines] == [
        (6.0, "gloves", "large"), (3.0, "foil", ""), (2.0, "sanitizer", ""),
    ]
    [line] = parse_lines("2 cases fries (the crinkle ones)", "en")
    assert (line.quantity, line.phrase, line.aside) == (2.0, "fries", "crinkle ones")


def test_a_counted_parenthesis_is_part_of_its_line() -> None:
    assert summary("quiero coca 600 (2 cajas), fanta (1 caja)", "es") == [(2.0, "coca 600"), (1.0, "fanta")]


def test_what_the_order_is_for_is_not_a_line() -> None:
    assert summary("30 sacos de gelo e 15 de carvão, é pra um churrasco grande", "pt") == [
        (30.0, "gelo"), (15.0, "carvão"),
    ]
    assert summary("quiero 2 cajas de coca 600 para un evento y 3 de fanta", "es") == [
        (2.0, "coca 600"), (3.0, "fanta"),
    ]
    # a pack word makes it a line: "para una caja ..." asks for a box
    assert summary("y para una caja de coca 600", "es") == [(1.0, "coca 600")]


def test_a_correction_that_names_its_product_can_wait_for_the_matcher() -> None:
    text = "I need 2 sacks onions, 2 cases tomatoes, and 1 case lettuce. Wait, make the tomatoes 3"
    assert [line.phrase for line in parse_lines(text, "en")] == ["onions", "tomatoes", "tomatoes 3"]  # replaced lettuce
    deferred = parse_lines(text, "en", defer_corrections=True)
    assert [(line.phrase, line.corrects) for line in deferred] == [
        ("onions", False), ("tomatoes", False), ("lettuce", False), ("tomatoes 3", True),
    ]
    # "make the" corrects only at the start of a sentence or after a comma
    assert summary("send 2 cases of fries and make the delivery early", "en")[0] == (2.0, "fries")


def test_run_on_intro_ends_at_a_counted_pack_word() -> None:
    text = "this is carla from the deli can you send six cases of ketchup two cases of mustard and three jugs of oil"
    assert summary(text, "en") == [(6.0, "ketchup"), (2.0, "mustard"), (3.0, "oil")]
    # without a count and a pack word, the introduction still runs to the comma
    assert summary("this is carla from the deli 3 hermanos, 2 cajas de coca", "es") == [(2.0, "coca")]


def test_hesitations_and_closings_are_noise() -> None:
    text = "we need four bags of sugar and uh two sacks of potatoes um that's it"
    assert summary(text, "en") == [(4.0, "sugar"), (2.0, "potatoes")]
    assert summary("eu quero um fardo de agua", "pt") == [(1.0, "agua")]  # "um" is still a count in Portuguese


def test_no_and_sorry_correct_only_before_a_count() -> None:
    assert summary("manda 5 cx de leite, não, pera, 6 cx de leite", "pt") == [(6.0, "leite")]
    assert summary("3 cajas de fanta, no, botellas, 3 botellas de fanta", "es") == [(3.0, "botellas de fanta")]
    lines = parse_lines("2 cs buns\nsry 3 cs buns", "en", defer_corrections=True)
    assert [(line.quantity, line.corrects) for line in lines] == [(2.0, False), (3.0, True)]
    # "no" that no count follows, or not after a comma, corrects nothing
    assert summary("2 cajas de coca, no se te olvide 1 de fanta", "es") == [(2.0, "coca"), (1.0, "fanta")]
    lines = parse_lines("no tengo hielo, 2 bolsas de hielo", "es", defer_corrections=True)
    assert not any(line.corrects for line in lines)
    lines = parse_lines("2 cs buns. sorry for the delay, 2 cs lids", "en", defer_corrections=True)
    assert [(line.phrase, line.corrects) for line in lines if line.quantity] == [("buns", False), ("lids", False)]


def test_a_bare_corrected_count_keeps_the_pack_word() -> None:
    [line] = parse_lines("me anotas 3 cajas de fanta, no espérame, mejor que sean 5", "es")
    assert (line.quantity, line.unit, line.phrase) == (5.0, "caja", "fanta")


def test_price_after_a_line_is_not_a_line() -> None:
    assert summary("dos cajas de coca a 350 verdad y una de fanta", "es") == [(2.0, "coca"), (1.0, "fanta")]
    assert summary("3 cs lids at 45 and 2 cs cups", "en") == [(3.0, "lids"), (2.0, "cups")]
    # a count of a pack word after "a" is a line
    assert summary("2 cajas de coca a 3 cajas de fanta", "es")[-1] == (3.0, "fanta")


def test_price_per_unit_and_regards_are_scrubbed() -> None:
    assert summary("last time it was $48 a case", "en") == [(None, "last time it was")]
    assert summary("manda um abraço pro pessoal", "pt") == [(None, "pessoal")]
    assert summary("mándales saludos", "es") == []
    assert summary("manda 2 fardos de agua", "pt") == [(2.0, "agua")]


def test_decimal_before_product_is_a_size_when_a_pack_count_follows() -> None:
    assert summary("16.9 water 6 cs, 2.5 flour 3 bags", "en") == [(6.0, "16.9 water"), (3.0, "2.5 flour")]
    # an integer count before the product still starts its own line
    assert summary("2 water 6 cs lids", "en") == [(2.0, "water"), (6.0, "lids")]


def test_size_in_number_words_reads_as_digits() -> None:
    assert summary("seis de coca de dos litros", "es") == [(6.0, "coca de 2 litros")]


def test_abbreviated_weekday_keeps_its_full_stop() -> None:
    sentences = split_sentences("a case of butter by fri. also the driver was nice")
    assert len(sentences) == 2
