"""The offline analyzer against the labelled dev cases and our own held-out-style cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ai.analyzer import AnalysisRequest, Analyzer, RecentOrderLine
from ai.catalog import Catalog, Product, load_catalog_file
from ai.contract import Analysis, Intent
from ai.eval.scorer import ALL, EvalReport, run_eval_async
from ai.offline.analyzer import OfflineAnalyzer

# What the offline analyzer reaches today; a change that scores lower fails here.
DEV_MIN_INTENT_ACCURACY = 1.0
DEV_MIN_LINE_F1 = 1.0
EXTRA_MIN_INTENT_ACCURACY = 1.0
EXTRA_MIN_LINE_F1 = 1.0
EXTRA_CASES = Path(__file__).parent / "fixtures" / "offline_extra_cases.jsonl"
# 150 cases written by a helper who had not read the analyzer (intent and lines labelled; its pii
# labels are left empty, so only intent and lines are judged): 0.977 line F1 when written, 1.000
# after the generic fixes it led to (corrections in pt/en, titles before names, month names, weekends).
BLIND_CASES = Path(__file__).parent / "fixtures" / "offline_blind_cases.jsonl"
CASE_FILES = [pytest.param(EXTRA_CASES, id="extra"), pytest.param(BLIND_CASES, id="blind")]
FIXTURES = Path(__file__).parent / "fixtures"
# Later blind sets, each written by a helper who had read neither the analyzer nor the earlier sets,
# scored as written, then used for generic fixes. Figures as written are without PII redaction (the
# worker's figures, with it, are in brackets). Products the catalog lacks ("2 kilos de tortilla") come
# back as unmatched lines for a person, which the labels leave out: the remaining misses are mostly those.
# (file, cases, minimum intent accuracy, minimum line F1 now)
LATER_BLIND_SETS = [
    # 150 cases: intent 0.973, line F1 0.946 as written (0.980 / 0.952)
    pytest.param("offline_blind2_cases.jsonl", 150, 0.99, 0.97, id="blind2"),
    # 120 everyday messages, after round 2: 0.975 / 0.990 (0.983 / 0.993); a dented-cans complaint and
    # a price check ("still $118 a case?") were the generic misses
    pytest.param("offline_blind3_cases.jsonl", 120, 0.99, 0.99, id="blind3"),
    # 120 in a busy style (voice-to-text, run-ons, chat exports), after round 3: 0.975 / 0.892
    # (0.983 / 0.899): run-on lines, "no, botellas" and "sry 5 cs lids", tails, sizes in words, prices
    pytest.param("offline_blind4_cases.jsonl", 120, 0.99, 0.975, id="blind4"),
    # 120 in mixed styles, after round 4: 1.000 / 0.972 (1.000 / 0.975); "aliás, 8 packs"
    pytest.param("offline_blind5_cases.jsonl", 120, 0.99, 0.975, id="blind5"),
    # 120 in the dev set's style, after round 5: 0.975 / 0.989 (0.992 / 0.995); PII recall 0.921
    pytest.param("offline_blind6_cases.jsonl", 120, 0.98, 0.99, id="blind6"),
    # 165 written from the catalogs alone by someone who never read the code (issue 18: units where the
    # catalog sells packs, typed codes, misspellings, sizes, statements with quantities, run-ons, removals):
    # intent 0.921, line F1 0.593 first seen with PII (0.915 / 0.636 without, unmatched lines left out);
    # now 0.988 / 0.972 (0.988 / 0.972 with PII) after the general mechanisms (pack facts, codes, run-ons, statements, removals,
    # sizes, phonetic keys, languages mixed)
    pytest.param("offline_blind7_cases.jsonl", 165, 0.97, 0.94, id="blind7"),
]
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyzer() -> OfflineAnalyzer:
    return OfflineAnalyzer()


@pytest.fixture(scope="module")
def valle(eval_dir: Path) -> Catalog:
    return load_catalog_file(eval_dir / "catalog-valle.json")


def request(text: str, catalog: Catalog, **kwargs: object) -> AnalysisRequest:
    return AnalysisRequest(text=text, catalog=catalog, now=NOW, **kwargs)  # type: ignore[arg-type]


def assert_scores(report: EvalReport, min_intent: float, min_f1: float) -> None:
    failures = {
        scope: (report.intent[scope].value, report.lines[scope].f1)
        for scope in report.intent
        if report.intent[scope].value < min_intent or report.lines[scope].f1 < min_f1
    }
    assert not failures, f"{failures}; misses: {[m.to_dict() for m in report.misses]}"


async def test_dev_cases(eval_dir: Path, analyzer: OfflineAnalyzer) -> None:
    report = await run_eval_async(eval_dir / "cases-dev.jsonl", eval_dir, analyzer=analyzer)
    assert report.cases == 40
    assert set(report.intent) == {ALL, "es", "en", "pt"}
    assert_scores(report, DEV_MIN_INTENT_ACCURACY, DEV_MIN_LINE_F1)


@pytest.mark.parametrize("cases", CASE_FILES)
async def test_extra_cases(cases: Path, eval_dir: Path, analyzer: OfflineAnalyzer) -> None:
    report = await run_eval_async(cases, eval_dir, analyzer=analyzer)
    assert report.cases >= 30
    assert_scores(report, EXTRA_MIN_INTENT_ACCURACY, EXTRA_MIN_LINE_F1)


@pytest.mark.parametrize(("name", "count", "min_intent", "min_f1"), LATER_BLIND_SETS)
async def test_later_blind_cases(
    name: str, count: int, min_intent: float, min_f1: float, eval_dir: Path, analyzer: OfflineAnalyzer
) -> None:
    """Without PII redaction: the analyzer alone, on names and numbers as the customer wrote them."""
    report = await run_eval_async(FIXTURES / name, eval_dir, analyzer=analyzer)
    assert report.cases == count
    assert report.intent[ALL].value >= min_intent
    assert report.lines[ALL].f1 >= min_f1, [m.to_dict() for m in report.misses]


@pytest.mark.parametrize("cases", CASE_FILES)
def test_extra_cases_have_the_eval_shape(cases: Path) -> None:
    for raw in cases.read_text(encoding="utf-8").splitlines():
        case = json.loads(raw)
        assert set(case) == {"id", "distributor", "text", "expect"}
        assert case["id"].split("-")[1] in {"es", "en", "pt"}
        assert case["expect"]["intent"] in {"order", "other"}
        assert (case["expect"]["intent"] == "order") == bool(case["expect"]["items"])


async def test_result_usage_and_contract(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    typed: Analyzer = analyzer  # satisfies the protocol
    result = await typed.analyze(request("me manda 3 cajas de coca 600 porfa", valle))
    assert (result.usage.provider, result.usage.model) == ("offline", "offline-rules-v1")
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.prompt_version == "offline-1" and analyzer.paid is False
    assert Analysis.model_validate(result.raw) == result.analysis
    json.dumps(result.raw)
    [line] = result.analysis.lines
    assert (line.sku, line.quantity, line.unit, line.confidence) == ("CC-600-24", 3.0, "caja", 1.0)
    assert result.analysis.needs_review is False and result.analysis.review_reasons == []
    assert "Total" in result.analysis.reply


def test_deterministic(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    text = "Hola, para el lunes: 6 pan bimbo, 4 bimbo integral y 3 cocas"
    assert analyzer.analyze_text(request(text, valle)) == analyzer.analyze_text(request(text, valle))


def test_matcher_is_built_once_per_catalog(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    assert analyzer.matcher(valle) is analyzer.matcher(valle)


def test_review_reasons(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    analysis = analyzer.analyze_text(request("mándame 3 cajas de coca 600 y 2 cajas de pepsi", valle))
    assert analysis.intent == Intent.ORDER and analysis.needs_review
    assert [line.sku for line in analysis.lines] == ["CC-600-24", None]
    assert "unmatched:line:2" in analysis.review_reasons
    analysis = analyzer.analyze_text(request("3 cocas", valle))
    assert analysis.lines[0].confidence < 0.75
    assert "low_confidence:line:1" in analysis.review_reasons
    analysis = analyzer.analyze_text(request("necesito 4 cajas de pepsi", valle))
    assert analysis.intent == Intent.ORDER and "no_matched_lines" in analysis.review_reasons


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("cuanto cuesta la caja de corona??", Intent.QUESTION),
        ("El pedido de ayer llegó incompleto, faltaron 2 cajas de leche lala", Intent.COMPLAINT),
        ("cancela las 3 cajas de coca de mañana", Intent.ORDER_CHANGE),  # removes a product from an order
        ("Gracias, ya llegó el pedido 👍", Intent.OTHER),
    ],
)
def test_not_orders_have_no_lines(analyzer: OfflineAnalyzer, valle: Catalog, text: str, intent: Intent) -> None:
    analysis = analyzer.analyze_text(request(text, valle))
    assert analysis.intent == intent
    assert analysis.lines == []


def test_redacted_text(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    analysis = analyzer.analyze_text(request("<PERSON> aquí, 4 cajas de leche lala para mañana, mi cel <PHONE_NUMBER>", valle))
    assert [(line.sku, line.quantity) for line in analysis.lines] == [("LAL-ENT-1L-12", 4.0)]
    assert analysis.delivery is not None and analysis.delivery.date == "2026-11-26"


def test_reply_language_follows_the_customer(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    analysis = analyzer.analyze_text(request("thanks!!", valle))
    assert (analysis.language, analysis.reply) == ("en", "Thanks for your message!")


def test_repeat_order_uses_recent_orders(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    recent = ((RecentOrderLine(sku="CC-600-24", quantity=5), RecentOrderLine(sku="SPR-600-24", quantity=2)),)
    analysis = analyzer.analyze_text(request("lo mismo de la semana pasada porfa", valle, recent_orders=recent))
    assert analysis.intent == Intent.ORDER
    assert [(line.sku, line.quantity) for line in analysis.lines] == [("CC-600-24", 5), ("SPR-600-24", 2)]
    assert "repeat_order" in analysis.review_reasons


# Weights as quantities, and the safety net: no order fragment with an amount disappears.
BY_WEIGHT = Catalog(
    distributor="weights",
    products=(
        Product(sku="LK-BEF-BRK", name="Beef brisket, whole, per lb", aliases=("brisket",), unit="lb", price_cents=520),
        Product(sku="LK-PAR-5", name="Parmesan, grated, 5 lb bag", aliases=("parmesan", "parm"), unit="bag",
                price_cents=3300),
        Product(sku="LK-BAC-15", name="Bacon, sliced, 15 lb case", aliases=("bacon",), unit="case", price_cents=6000),
        Product(sku="QS-OAX", name="Queso oaxaca por kilo", aliases=("queso oaxaca", "queso"), unit="kg",
                price_cents=9000),
        Product(sku="CAR-MOL", name="Carne molida de res", aliases=("carne molida", "carne"), unit="kg",
                price_cents=12000),
    ),
)


def lines_of(analysis: Analysis) -> list[tuple[str | None, float, str | None]]:
    return [(line.sku, line.quantity, line.unit) for line in analysis.lines]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("need 30 lb of brisket and 2 bags of parmesan asap", [("LK-BEF-BRK", 30.0, "lb"), ("LK-PAR-5", 2.0, "bag")]),
        ("20 libras de brisket y 1 bolsa de parmesano", [("LK-BEF-BRK", 20.0, "lb"), ("LK-PAR-5", 1.0, "bolsa")]),
        ("quiero 5 kg de queso oaxaca y 2 kilos de carne molida", [("QS-OAX", 5.0, "kg"), ("CAR-MOL", 2.0, "kg")]),
        ("quero 3 quilos de carne moída pra amanhã", [("CAR-MOL", 3.0, "kg")]),
        ("need 10lbs brisket", [("LK-BEF-BRK", 10.0, "lb")]),
    ],
)
def test_weights_are_quantities(
    analyzer: OfflineAnalyzer, text: str, expected: list[tuple[str | None, float, str | None]]
) -> None:
    analysis = analyzer.analyze_text(request(text, BY_WEIGHT))
    assert analysis.intent == Intent.ORDER
    assert lines_of(analysis) == expected
    assert all(line.confidence >= 0.75 for line in analysis.lines)
    assert not analysis.needs_review, analysis.review_reasons


def test_weight_of_a_product_sold_in_another_unit_goes_to_review(analyzer: OfflineAnalyzer) -> None:
    analysis = analyzer.analyze_text(request("10 lbs of bacon and 2 bags of parm", BY_WEIGHT))
    assert analysis.intent == Intent.ORDER
    assert lines_of(analysis) == [("LK-BAC-15", 10.0, "lb"), ("LK-PAR-5", 2.0, "bag")]  # 10 lb: never converted
    assert analysis.needs_review and "unit_mismatch:line:1" in analysis.review_reasons
    assert analysis.lines[0].confidence < 0.75 and analysis.lines[1].confidence == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a weight of a product the catalog does not have
        ("send 2 bags of parm, 10 lbs of short ribs and 30 lb of brisket",
         [("LK-PAR-5", 2.0, "bag"), (None, 10.0, "lb"), ("LK-BEF-BRK", 30.0, "lb")]),
        ("preciso 2 quilos de carne moída e uns 3 kg de linguiça",
         [("CAR-MOL", 2.0, "kg"), (None, 3.0, "kg")]),
        # a count in a question inside an order
        ("need 2 bags of parm. can you also do 3 cases of truffle oil?", [("LK-PAR-5", 2.0, "bag"), (None, 3.0, "case")]),
        # a volume without a count: a person reads it
        ("mándame 3 kg de queso y 2 litros de crema", [("QS-OAX", 3.0, "kg"), (None, 1.0, None)]),
    ],
)
def test_order_fragments_with_an_amount_never_disappear(
    analyzer: OfflineAnalyzer, text: str, expected: list[tuple[str | None, float, str | None]]
) -> None:
    analysis = analyzer.analyze_text(request(text, BY_WEIGHT))
    assert analysis.intent == Intent.ORDER
    assert lines_of(analysis) == expected
    unmatched = [n for n, line in enumerate(analysis.lines, start=1) if line.sku is None]
    assert analysis.needs_review
    assert all(f"unmatched:line:{n}" in analysis.review_reasons for n in unmatched)


@pytest.mark.parametrize(
    "text",
    [
        "hola! mándame 3 kg de queso, mi cel 55 1234 5678, entregar en Calle 5 de Mayo 23. gracias!!",
        "need 30 lb of brisket for friday at 9am, total was $45.50 last time. thanks!",
        "need 30 lb of brisket and 16 oz cups?",
        "3 kg de queso oaxaca, lo mismo que el pedido de ayer",
        "need 30 lb of brisket. the 2 bags of parm from last week were damaged",
    ],
)
def test_safety_net_leaves_non_lines_out(analyzer: OfflineAnalyzer, text: str) -> None:
    analysis = analyzer.analyze_text(request(text, BY_WEIGHT))
    assert [line.sku for line in analysis.lines] in (["QS-OAX"], ["LK-BEF-BRK"])
    assert not any(reason.startswith("unmatched") for reason in analysis.review_reasons)


@pytest.mark.parametrize(("text", "distributor", "sku", "quantity"), [
    ("Manda 3 caixas de heineken, não, melhor 5", "sol", "SOL-HEIN-600-24", 5.0),
    ("Send 4 cases of large eggs, actually make it 6", "northwind", "NW-EGG-LG-15DZ", 6.0),
    ("4 cases of large eggs, make it 6", "northwind", "NW-EGG-LG-15DZ", 6.0),
    ("me mandas 1 caja de doritos... no, mejor que sean 3", "valle", "DOR-NAC-40", 3.0),
    ("I actually need 3 cases of large eggs", "northwind", "NW-EGG-LG-15DZ", 3.0),  # not a correction
])
async def test_self_corrections_keep_the_last_quantity(
    text: str, distributor: str, sku: str, quantity: float, analyzer: OfflineAnalyzer, eval_dir: Path
) -> None:
    catalog = load_catalog_file(eval_dir / f"catalog-{distributor}.json")
    lines = (await analyzer.analyze(request(text, catalog))).analysis.lines
    assert [(line.sku, line.quantity) for line in lines] == [(sku, quantity)]


async def test_a_title_before_a_redacted_name_is_not_a_product(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    text = "Hola don <PERSON>, para mañana: 3 cartones de corona. Gracias"  # "don" would read as Don Julio
    lines = (await analyzer.analyze(request(text, valle))).analysis.lines
    assert [line.quantity for line in lines] == [3.0] and lines[0].sku is not None and "DJ" not in lines[0].sku


def catalog_of(eval_dir: Path, distributor: str) -> Catalog:
    return load_catalog_file(eval_dir / f"catalog-{distributor}.json")


@pytest.mark.parametrize(("text", "distributor", "intent"), [
    ("cuanto me sale si me llevo 10 cartones de modelo? hay descuento?", "valle", Intent.QUESTION),
    ("how much for 20 cases of water?", "northwind", Intent.QUESTION),
    ("quanto fica 10 fardos de água?", "sol", Intent.QUESTION),
    ("We were charged for 4 cases of buns but only got 3", "northwind", Intent.COMPLAINT),
    ("me cobraron 5 cajas de coca y solo llegaron 4", "valle", Intent.COMPLAINT),
])
def test_price_questions_and_charge_complaints_have_no_lines(
    analyzer: OfflineAnalyzer, eval_dir: Path, text: str, distributor: str, intent: Intent
) -> None:
    analysis = analyzer.analyze_text(request(text, catalog_of(eval_dir, distributor)))
    assert (analysis.intent, analysis.lines) == (intent, [])


@pytest.mark.parametrize(("text", "distributor", "expected"), [
    # a request put as a question
    ("ey me llevas 20 garrafones el lunes temprano? gracias", "valle", [("GARR-20L", 20.0)]),
    ("pode me mandar 5 fardos de água amanhã?", "sol", [("SOL-AGUA-500-12", 5.0)]),
    # an order next to a price question stays an order
    ("mándame 5 cajas de corona. cuánto es en total?", "valle", [("COR-355-24", 5.0)]),
    # chat spellings
    ("mandame 3 cjas d sabritas y 3 d doritos, y tmb 2 d gansitos", "valle",
     [("SAB-ORI-40", 3.0), ("DOR-NAC-40", 3.0), ("MAR-GAN-10", 2.0)]),
    # purpose and destination words after the product
    ("Agreguen 1 caja de gansito y 2 de takis al pedido de Juan Carlos Ramírez, tel <PHONE_NUMBER>", "valle",
     [("MAR-GAN-10", 1.0), ("TAK-FUE-40", 2.0)]),
    ("send 1 box coke bib and 10 cases water to our second location at <ADDRESS>", "northwind",
     [("NW-COKE-BIB-5", 1.0), ("NW-WAT-16-24", 10.0)]),
    ("need 10 cases of lids for 16 oz cups", "northwind", [("NW-LID-16-1000", 10.0)]),  # "for" in the name stays
    # corrections: of the count after other words, of a named product
    ("dame 12 cartones de corona pa la fiesta del sábado, no mejor que sean 15", "valle", [("COR-355-24", 15.0)]),
    ("I need 2 sacks onions, 2 cases tomatoes, and 1 case lettuce. Wait, make the tomatoes 3", "northwind",
     [("NW-ONI-YEL-50", 2.0), ("NW-TOM-ROMA-25", 3.0), ("NW-LET-ROM-24", 1.0)]),
    ("2 cajas de coca 600, digo, 3 cajas de corona", "valle", [("COR-355-24", 3.0)]),  # another product: replaces
    ("2 cajas de coca 600 y 3 de corona, digo, 4 de coca 600", "valle", [("CC-600-24", 4.0), ("COR-355-24", 3.0)]),
    # a parenthesis qualifies its line
    ("gloves x 6 (large), foil x 3, sanitizer x 2", "northwind",
     [("NW-GLV-NIT-L", 6.0), ("NW-FOIL-18", 3.0), ("NW-SAN-QUAT-4", 2.0)]),
    # a product mentioned in a sentence that asks for nothing, then ordered with a count
    ("We're out of flour! 2 bags AP flour asap please, and 1 bag of rice", "northwind",
     [("NW-FLR-AP-50", 2.0), ("NW-RICE-LG-50", 1.0)]),
    ("We're out of flour. Need 2 bags of rice", "northwind", [("NW-FLR-AP-50", 1.0), ("NW-RICE-LG-50", 2.0)]),
    # a count in dozens of a product sold in dozen cases
    ("Can I get 30 dozen eggs on tomorrow's truck?", "northwind", [("NW-EGG-LG-15DZ", 2.0)]),
    ("a dozen cases of water", "northwind", [("NW-WAT-16-24", 12.0)]),
    # what the order is for is not a line
    ("30 sacos de gelo e 15 de carvão pra sexta à tarde, é pra um churrasco grande", "sol",
     [("SOL-GELO-5K", 30.0), ("SOL-CARV-5K", 15.0)]),
])
def test_generic_order_phrasings(
    analyzer: OfflineAnalyzer, eval_dir: Path, text: str, distributor: str, expected: list[tuple[str | None, float]]
) -> None:
    analysis = analyzer.analyze_text(request(text, catalog_of(eval_dir, distributor)))
    assert analysis.intent == Intent.ORDER
    assert [(line.sku, line.quantity) for line in analysis.lines] == expected


def test_a_descriptor_typo_does_not_pick_a_product(analyzer: OfflineAnalyzer, valle: Catalog) -> None:
    # "chicles" is one edit from "chica" (agua chica): an unknown product, for a person, not water
    text = "Me mandas 4 cajas de aceite. Y una cajita de chicles si tienen"
    skus = [line.sku for line in analyzer.analyze_text(request(text, valle)).lines]
    assert skus == ["ACE-NUT-1L-12", None]


@pytest.mark.parametrize(
    ("text", "distributor", "expected"),
    [
        # voice-to-text run-on: a count and a pack word after a product starts the next line
        ("hi its tom from the diner um can we get two cases of eggs three cases of bacon and uh a case of butter",
         "northwind", [("NW-EGG-LG-15DZ", 2.0), ("NW-BAC-APL-15", 3.0), ("NW-BUT-UNS-36", 1.0)]),
        # a restated line after "sorry"/"não" replaces the earlier one
        ("4 cs lids\nsorry 6 cs lids", "northwind", [("NW-LID-16-1000", 6.0)]),
        # words after the product ("before close", "by fri") are not product words
        ("need 2 cs tortillas before close and a case of butter by fri.", "northwind",
         [("NW-TORT-FL-12", 2.0), ("NW-BUT-UNS-36", 1.0)]),
        # a price per case after a price question is not a line
        ("how much are the fries now? it was $40 a case", "northwind", []),
        # a day of this month is a date, "como el mes pasado" is no product
        ("para el 28 de este mes me mandas 8 rejas de huevo", "valle", [("HUE-30", 8.0)]),
        ("me mandas 15 cajas de coca 600 como el mes pasado", "valle", [("CC-600-24", 15.0)]),
        ("Manda 6 packs de skol, aliás, 8 packs. E 3 fardos de coca 2 litros", "sol",
         [("SOL-SKOL-350-12", 8.0), ("SOL-COCA-2L-6", 3.0)]),
    ],
)
def test_busy_people_messages(
    analyzer: OfflineAnalyzer, eval_dir: Path, text: str, distributor: str, expected: list[tuple[str, float]]
) -> None:
    catalog = load_catalog_file(eval_dir / f"catalog-{distributor}.json")
    analysis = analyzer.analyze_text(request(text, catalog))
    assert [(line.sku, line.quantity) for line in analysis.lines] == expected
