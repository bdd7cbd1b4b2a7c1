"""The PII detector's interface, redaction, and its figures on the labelled messages."""

from __future__ import annotations

import threading
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from ai.eval.datasets import eval_dir
from ai.eval.pii import (
    LabelledCase,
    Scorecard,
    distributor_languages,
    distributor_vocabularies,
    load_cases,
    score,
)
from ai.pii.detector import CATEGORIES, PiiDetector, PiiFinding, get_detector, redact

REPO_ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = eval_dir()
EXTRA_CASES = Path(__file__).parent / "fixtures" / "pii_extra_cases.jsonl"
BLIND_CASES = Path(__file__).parent / "fixtures" / "pii_blind_cases.jsonl"
BLIND2_CASES = Path(__file__).parent / "fixtures" / "pii_blind2_cases.jsonl"
BLIND3_CASES = Path(__file__).parent / "fixtures" / "pii_blind3_cases.jsonl"
BLIND4_CASES = Path(__file__).parent / "fixtures" / "pii_blind4_cases.jsonl"
BLIND5_CASES = Path(__file__).parent / "fixtures" / "pii_blind5_cases.jsonl"
BLIND6_CASES = Path(__file__).parent / "fixtures" / "pii_blind6_cases.jsonl"
EXTRA_LANGUAGES = {"valle": "es", "northwind": "en", "sol": "pt"}  # the fixtures' distributors
# What the detector reaches (PII spans found / reported spans that are PII); lower only with a reason.
DEV_MIN_RECALL = 1.0
DEV_MIN_PRECISION = 1.0
EXTRA_MIN_RECALL = 1.0
EXTRA_MIN_PRECISION = 1.0
# 90 cases written by someone who had not read the detector: recall 0.724, precision 0.950 as written
# (PERSON recall 0.455); the generic causes are fixed (lower-case given names, relations, honorifics,
# receivers, data after a colon, SSNs, bare Brazilian mobiles, numbered highways, own-name greetings).
BLIND_MIN_RECALL = 1.0
BLIND_MIN_PRECISION = 1.0
# 120 more, written blind after those fixes: recall 0.864, precision 0.964 as written (PERSON recall
# 0.746); the generic causes are fixed since.
BLIND2_MIN_RECALL = 1.0
BLIND2_MIN_PRECISION = 1.0
# 90 more, written blind after the second round, as an everyday inbox: recall 0.852, precision 1.000
# as written (PERSON recall 0.708). Still missed: streets typed in lower case without "entregar en"
# ("pra av. brasil 2890"), a lower-case name after a lower-case honorific that is no known given name
# ("a dona cida"), and a name that only a sentence's grammar marks ("Kevin left the eggs out").
BLIND3_MIN_RECALL = 0.95
BLIND3_MIN_PRECISION = 1.0
# 90 in a busy style (voice-to-text in lower case, capitals, chat exports, contact cards), written
# after the third round: recall 0.661, precision 0.988 as written (PERSON recall 0.466, ADDRESS 0.357).
# Still missed: names only grammar marks beyond the mechanisms ("not Kevin", "Rigoberto el de su almacén
# dice", "name tag said DARNELL"). The CVV "318", left unlabelled as written, is labelled since CVVs are
# card data.
BLIND4_MIN_RECALL = 0.97
BLIND4_MIN_PRECISION = 1.0
# 90 in mixed styles, written after the fourth round: recall 0.812, precision 0.979 as written (PERSON
# recall 0.688): vCards, thanks to staff ("gracias a Lupita de cobranza"), "la licenciada Mónica",
# a name on the last line, "Marco"/"Julio" taken for months, "call" taken for a stop word.
BLIND5_MIN_RECALL = 1.0
BLIND5_MIN_PRECISION = 1.0
# The PII labels of 165 analyzer cases (set A, es/en/pt, voice-to-text, typos, bare lists, codes, payment
# details), written by someone who never read the code: recall 0.652, precision 1.000 as written (PERSON
# 19/34 = 0.559, BANK_ACCOUNT 0/8, NATIONAL_ID 4/5). The classes were fixed with general mechanisms
# (BANK_ACCOUNT, EINs, names no list knows where a cue marks them, names under a list or before a phone).
BLIND6_MIN_RECALL = 1.0
BLIND6_MIN_PRECISION = 1.0


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return get_detector()


def found(detector: PiiDetector, text: str, language: str = "es") -> list[tuple[str, str]]:
    return [(f.category, f.text_in(text)) for f in detector.detect(text, language)]


def finding(category: str, start: int, end: int) -> PiiFinding:
    return PiiFinding(category=category, entity_type=category, start=start, end=end, score=0.9, recognizer="test")


def test_finding_is_frozen_and_checked() -> None:
    f = finding("PHONE_NUMBER", 4, 9)
    with pytest.raises(FrozenInstanceError):
        f.start = 0  # type: ignore[misc]
    assert f.text_in("tel 55123 x") == "55123"
    with pytest.raises(ValueError, match="category"):
        finding("SSN", 0, 1)
    with pytest.raises(ValueError, match="span"):
        finding("PERSON", 4, 4)


def test_findings_are_sorted_non_overlapping_and_categorised(detector: PiiDetector) -> None:
    text = ("Soy Carmen Ruiz, mi cel 55 4321 8765, correo carmen@gmail.com, RFC GOMR850101AB3, "
            "entregar en Av. Insurgentes Sur 1234, Col. Del Valle, tarjeta 4152 3131 0000 1234")
    findings = detector.detect(text, "es")
    assert [f.category for f in findings] == [
        "PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "NATIONAL_ID", "ADDRESS", "CREDIT_CARD"
    ]
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:], strict=False))
    assert {f.entity_type for f in findings} >= {"MX_RFC", "PERSON", "CREDIT_CARD"}
    assert all(f.category in CATEGORIES and 0 < f.score <= 1 and f.recognizer for f in findings)


def test_language_variants_and_unknown_languages(detector: PiiDetector) -> None:
    text = "call me at (312) 555-0147"
    expected = [("PHONE_NUMBER", "(312) 555-0147")]
    assert found(detector, text, "en-US") == found(detector, text, "EN") == found(detector, text, "fr") == expected
    assert detector.detect("   ", "es") == []


def test_redact_uses_typed_placeholders() -> None:
    text = "soy Ana, cel 55 4321 8765, 3 cajas de coca 600"
    findings = [finding("PERSON", 4, 7), finding("PHONE_NUMBER", 13, 25)]
    assert redact(text, findings) == "soy <PERSON>, cel <PHONE_NUMBER>, 3 cajas de coca 600"
    assert redact(text, []) == text
    assert redact(text, [finding("PHONE_NUMBER", 13, 25), finding("PHONE_NUMBER", 16, 20)]) == (
        "soy Ana, cel <PHONE_NUMBER>, 3 cajas de coca 600"
    )


def test_redaction_of_a_real_message_keeps_the_order(detector: PiiDetector) -> None:
    text = ("need two jugs of fryer oil and a 50 lb bag of flour asap. call me at (312) 555-0147 "
            "if there's a problem - Mike Johnson")
    assert redact(text, detector.detect(text, "en")) == (
        "need two jugs of fryer oil and a 50 lb bag of flour asap. call me at <PHONE_NUMBER> "
        "if there's a problem - <PERSON>"
    )


PRODUCT_TEXTS = [
    ("es", "Buenas tardes! me manda 3 cajas de coca 600 y 2 de sprite 600 porfa"),
    ("es", "coca 600 x 5\nfanta 600 x 2\ncoca lata x 3"),
    ("es", "Pedido #4521: 10 cajas, total $12,345.50, entregar 15/11/2025 a las 10:30"),
    ("es", "SKU CC-600-24 x 10 y SPR-600-24 x 5; EAN 7501055300075 x 2"),
    ("es", "Oye, ¿tienen Don Julio 70 y Jose Cuervo Especial? ¿A cómo la caja?"),
    ("es", "Hola soy el encargado de la tienda, manden 5 cajas de leche lala 1L"),
    ("es", "Calle llena de baches, el camión no pudo pasar; 2 cajas de Col. y 3 de Jugo Del Valle"),
    ("es", "10 cajas de Jumex 1L\n- Jugo Del Valle"),
    ("es", "Entregar en Sucursal Centro 2, pasillo 5"),
    ("en", "heinz ketchup x2, hellmanns mayo x1, cups 16oz x3, lids x3, clamshells 9x9, 80/20 beef"),
    ("en", "This is Rosie's Diner, we need 4 cases; Hi this is Blue Door Cafe too"),
    ("en", "Order:\n- Heinz Ketchup\n- Hellmanns Mayo"),
    ("en", "12 Dr Pepper 2L, 1 case Dr. Pepper, 3 cases Mountain Dew - Thanks"),
    ("en", "need 2 cases 12/16 oz lids, 4 cases of 6/10 cans tomato, 2 cases 4/1 gal mayo"),
    ("en", "12 24 36 48 60"),
    ("pt", "preciso de 10 packs de skol lata e 4 caixas de heineken 600 pra sexta"),
    ("pt", "5 fardos de coca 2L, 3 caixas de brahma 350ml, total R$ 1.234,50"),
    ("pt", "Quero 2 caixas de biscoito Maria e 3 de arroz Tio João - Obrigado"),
    ("pt", "Oi, aqui é da Padaria Pão Quente; sou do Bar do Zé; código 12345678901"),
]


@pytest.mark.parametrize(("language", "text"), PRODUCT_TEXTS)
def test_no_pii_in_product_text(detector: PiiDetector, language: str, text: str) -> None:
    findings = detector.detect(text, language)
    assert findings == [], [(f.category, f.text_in(text)) for f in findings]
    assert redact(text, findings) == text


def labelled(path: Path) -> list[LabelledCase]:
    if not path.exists():
        pytest.fail(f"labelled cases not found at {path} (set ORDERFLOW_EVAL_DIR)")
    return load_cases(path)


def assert_figures(card: Scorecard, min_recall: float, min_precision: float) -> None:
    total = card.total
    report = f"recall {total.recall:.3f} precision {total.precision:.3f}; misses {card.misses}; " \
             f"false positives {card.false_positives}"
    assert total.recall >= min_recall, report
    assert total.precision >= min_precision, report


def test_dev_set_recall_and_precision(detector: PiiDetector) -> None:
    cases = labelled(EVAL_DIR / "cases-dev.jsonl")
    assert_figures(score(detector, cases, distributor_languages(EVAL_DIR)), DEV_MIN_RECALL, DEV_MIN_PRECISION)


def test_extra_set_recall_and_precision(detector: PiiDetector) -> None:
    card = score(detector, labelled(EXTRA_CASES), EXTRA_LANGUAGES)
    assert_figures(card, EXTRA_MIN_RECALL, EXTRA_MIN_PRECISION)
    assert all(card.by_category[c].found for c in CATEGORIES)  # the fixture covers every category


@pytest.mark.parametrize(
    ("cases", "min_recall", "min_precision"),
    [
        pytest.param(BLIND_CASES, BLIND_MIN_RECALL, BLIND_MIN_PRECISION, id="blind1"),
        pytest.param(BLIND2_CASES, BLIND2_MIN_RECALL, BLIND2_MIN_PRECISION, id="blind2"),
        pytest.param(BLIND3_CASES, BLIND3_MIN_RECALL, BLIND3_MIN_PRECISION, id="blind3"),
        pytest.param(BLIND4_CASES, BLIND4_MIN_RECALL, BLIND4_MIN_PRECISION, id="blind4"),
        pytest.param(BLIND5_CASES, BLIND5_MIN_RECALL, BLIND5_MIN_PRECISION, id="blind5"),
        pytest.param(BLIND6_CASES, BLIND6_MIN_RECALL, BLIND6_MIN_PRECISION, id="blind6"),
    ],
)
def test_blind_sets_recall_and_precision(
    detector: PiiDetector, cases: Path, min_recall: float, min_precision: float
) -> None:
    if not EVAL_DIR.exists():
        pytest.fail(f"eval catalogs not found at {EVAL_DIR} (set ORDERFLOW_EVAL_DIR)")
    card = score(detector, labelled(cases), EXTRA_LANGUAGES, distributor_vocabularies(EVAL_DIR))
    assert_figures(card, min_recall, min_precision)


def test_greeting_the_distributor_is_no_person_when_its_words_are_known(detector: PiiDetector) -> None:
    cases = [c for c in labelled(BLIND_CASES) if c.id in {"piiblind-es-017", "piiblind-en-014", "piiblind-pt-023"}]
    assert len(cases) == 3
    without = score(detector, cases, EXTRA_LANGUAGES)
    assert len(without.false_positives) == 3  # "Hola Valle", "Hi Northwind", "Oi Sol"
    if EVAL_DIR.exists():
        assert score(detector, cases, EXTRA_LANGUAGES, distributor_vocabularies(EVAL_DIR)).false_positives == []


def test_get_detector_builds_once_across_threads() -> None:
    seen: list[PiiDetector] = []
    threads = [threading.Thread(target=lambda: seen.append(get_detector())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(d is seen[0] for d in seen)


def test_detector_with_one_language_and_a_stricter_threshold() -> None:
    strict = PiiDetector(languages=("pt",), score_threshold=0.9)
    text = "Me liga no (11) 98765-4321, CPF 123.456.789-09"
    assert found(strict, text, "pt") == [("PHONE_NUMBER", "(11) 98765-4321"), ("NATIONAL_ID", "123.456.789-09")]
    assert found(strict, "tel 8765-4321", "es") == []  # local number: 0.55 with context, under 0.9
