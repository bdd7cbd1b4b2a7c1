"""Each structured PII recognizer: what passes its check, what fails it, and how context counts."""

from __future__ import annotations

import pytest

from ai.pii.detector import PiiDetector, get_detector
from ai.pii.recognizers import (
    BARE_SCORE,
    CHECKED_SCORE,
    LIKELY_SCORE,
    REJECT,
    UNCHECKED_SCORE,
    BrCnpjRecognizer,
    BrCpfRecognizer,
    CardNumberRecognizer,
    MxCurpRecognizer,
    MxRfcRecognizer,
    PhoneNumberRecognizer,
    UsSsnRecognizer,
)


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return get_detector()


def found(detector: PiiDetector, text: str, language: str = "es") -> list[tuple[str, str, str]]:
    return [(f.category, f.entity_type, f.text_in(text)) for f in detector.detect(text, language)]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("55 4321 8765", LIKELY_SCORE),  # Mexico City
        ("(312) 555-0147", LIKELY_SCORE),  # Chicago
        ("(11) 98765-4321", LIKELY_SCORE),  # São Paulo mobile
        ("+52 1 55 1234 5678", LIKELY_SCORE),  # the old Mexican mobile "1", still typed
        ("+55 11 91234-5678", LIKELY_SCORE),
        ("+1 (773) 555-0142", LIKELY_SCORE),
        ("044 55 1234 5678", LIKELY_SCORE),  # the old Mexican mobile prefix
        ("5543218765", BARE_SCORE),  # a bare run of digits could be an order number
        ("11987654321", LIKELY_SCORE),  # a bare Brazilian mobile: area code, 9, eight digits
        ("12345678901", BARE_SCORE),  # 11 digits, no Brazilian mobile: only with a context word
        ("55 43 21 87 65", BARE_SCORE),  # pairs look like a list of quantities
        ("8765-4321", UNCHECKED_SCORE),  # no area code: needs "tel", "cel" ...
        ("123.456.789-09", REJECT),  # a CPF, not a phone
        ("12 34 56", REJECT),
        ("1020304050", REJECT),  # no such area code anywhere
        ("+99 123", REJECT),
    ],
)
def test_phone_scores(written: str, expected: float) -> None:
    assert PhoneNumberRecognizer(language="es").score_number(written) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Mi número nuevo es 55 4321 8765 por si no me encuentran", "55 4321 8765"),
        ("call me at (312) 555-0147 if there's a problem", "(312) 555-0147"),
        ("Me liga no (11) 98765-4321 pra confirmar", "(11) 98765-4321"),
        ("+52 1 81 2345 6789 es mi whats", "+52 1 81 2345 6789"),
        ("mi whats 5543218765", "5543218765"),  # bare digits pass with a context word
        ("tel 8765-4321", "8765-4321"),
        ("555-0147 is my number", "555-0147"),  # context after the number counts too
        ("pedido 3 55 4321 8765", "55 4321 8765"),  # the quantity before it is left out
        ("ok 10 cases water. ph 2145550163 ask for him", "2145550163"),
        ("la factura, a mi cel 55 4321 8765", "55 4321 8765"),  # a number noun, but a phone word too
        ("call me back at 7734820196", "7734820196"),  # "call" is a context word, not a stop word
    ],
)
def test_phone_numbers_found(detector: PiiDetector, text: str, number: str) -> None:
    assert found(detector, text) == [("PHONE_NUMBER", "PHONE_NUMBER", number)]


@pytest.mark.parametrize("text", ["pedido 5543218765", "van 8765-4321 piezas", "12 24 36 48 60",
                                  "linha digitável 23793.38128 60000.000003 00000.000400 1 84340000012345",
                                  "Lot # on the bacon was 0423-117-8891, is that the recalled one?",
                                  "el folio de la factura es 55 4321 8765"])
def test_phone_like_numbers_without_context_are_not_phones(detector: PiiDetector, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("4152 3131 0000 1234", LIKELY_SCORE),  # Luhn-valid, grouped
        ("5500-0000-0000-0004", LIKELY_SCORE),
        ("3782 822463 10005", LIKELY_SCORE),  # Amex 4-6-5
        ("4111111111111111", BARE_SCORE),  # Luhn-valid but bare: a barcode or an order number?
        ("4915 6612 3456 7890", UNCHECKED_SCORE),  # fails Luhn: a mistyped card, needs "tarjeta"
        ("4915661234567890", REJECT),  # fails Luhn and bare
        ("4152 3131 00", REJECT),  # too short
    ],
)
def test_card_scores(written: str, expected: float) -> None:
    assert CardNumberRecognizer(language="es").score_match(written) == expected


def test_card_failing_luhn_needs_a_context_word(detector: PiiDetector) -> None:
    assert found(detector, "tarjeta de débito 4915 6612 3456 7890") == [
        ("CREDIT_CARD", "CREDIT_CARD", "4915 6612 3456 7890")
    ]
    assert found(detector, "lote 4915 6612 3456 7890") == []
    assert found(detector, "pago con tarjeta 4152 3131 0000 1234")[0][0] == "CREDIT_CARD"
    assert found(detector, "card on file is 5500 0000 0000 0004, exp 09/28", "en") == [
        ("CREDIT_CARD", "CREDIT_CARD", "5500 0000 0000 0004")
    ]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("MESJ7912071A9", CHECKED_SCORE),  # person, right check digit
        ("TSO970101A67", CHECKED_SCORE),  # company (12 characters)
        ("GOMR850101AB3", LIKELY_SCORE),  # wrong check digit: common in real RFCs, date still valid
        ("gomr850101ab3", LIKELY_SCORE),  # typed in lower case
        ("GOMR851301AB3", REJECT),  # month 13
    ],
)
def test_rfc_scores(number: str, expected: float) -> None:
    assert MxRfcRecognizer(language="es").score_match(number) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [("BOXW310820HNERXN09", CHECKED_SCORE), ("HEGL850315MJCRRP09", CHECKED_SCORE),
     ("BOXW310820HNERXN08", UNCHECKED_SCORE)],
)
def test_curp_scores(number: str, expected: float) -> None:
    assert MxCurpRecognizer(language="es").score_match(number) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("123.456.789-09", CHECKED_SCORE),
        ("529.982.247-25", CHECKED_SCORE),
        ("52998224725", BARE_SCORE),  # valid but bare: needs "cpf"
        ("123.456.789-00", UNCHECKED_SCORE),  # wrong check digits, but shaped like a CPF
        ("12345678900", REJECT),
    ],
)
def test_cpf_scores(number: str, expected: float) -> None:
    assert BrCpfRecognizer(language="pt").score_match(number) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11.222.333/0001-81", CHECKED_SCORE),
        ("12.ABC.345/01DE-35", CHECKED_SCORE),  # alphanumeric CNPJ (from July 2026)
        ("11222333000181", BARE_SCORE),
        ("11.222.333/0001-80", UNCHECKED_SCORE),
        ("11222333000180", REJECT),
    ],
)
def test_cnpj_scores(number: str, expected: float) -> None:
    assert BrCnpjRecognizer(language="pt").score_match(number) == expected


@pytest.mark.parametrize(
    ("text", "entity", "number", "language"),
    [
        ("Facturar a RFC GOMR850101AB3", "MX_RFC", "GOMR850101AB3", "es"),
        ("Mi CURP es HEGL850315MJCRRP09", "MX_CURP", "HEGL850315MJCRRP09", "es"),
        ("Nota fiscal no CPF 123.456.789-09 por favor", "BR_CPF", "123.456.789-09", "pt"),
        ("CPF 52998224725 pra nota fiscal", "BR_CPF", "52998224725", "pt"),
        ("CNPJ 11.222.333/0001-81 pra nota", "BR_CNPJ", "11.222.333/0001-81", "pt"),
        ("meu cpf é 123.456.789-00", "BR_CPF", "123.456.789-00", "pt"),  # mistyped, context says CPF
        ("For the credit application, SSN 412-58-3907", "US_SSN", "412-58-3907", "en"),
        ("SSN for the tax form is 523 71 4408", "US_SSN", "523 71 4408", "en"),
        ("my social security number 412583907", "US_SSN", "412583907", "en"),
        ("the number is 412-58-3907", "US_SSN", "412-58-3907", "en"),  # 3-2-4 with dashes needs no context
    ],
)
def test_national_ids_found(detector: PiiDetector, text: str, entity: str, number: str, language: str) -> None:
    assert found(detector, text, language) == [("NATIONAL_ID", entity, number)]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("412-58-3907", LIKELY_SCORE),
        ("523 71 4408", BARE_SCORE),  # spaces: could be three counts
        ("412583907", UNCHECKED_SCORE),  # nine digits: could be an order number
        ("000-12-3456", REJECT),  # area 000, 666 and 9xx are never issued
        ("666-12-3456", REJECT),
        ("912-12-3456", REJECT),
        ("412-00-3456", REJECT),
        ("412-58-0000", REJECT),
        ("111-11-1111", REJECT),
    ],
)
def test_ssn_scores(number: str, expected: float) -> None:
    assert UsSsnRecognizer(language="en").score_match(number) == expected


@pytest.mark.parametrize("text", ["código 12345678901 do produto", "lote 123.456.789-00", "ref 52998224725",
                                  "order 412583907", "cases 523 71 4408"])
def test_id_like_numbers_without_context_are_not_ids(detector: PiiDetector, text: str) -> None:
    assert found(detector, text, "pt") == []


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("la factura al correo compras.esperanza@gmail.com por favor", "compras.esperanza@gmail.com"),
        ("Invoice to ap@rosiesdiner.com", "ap@rosiesdiner.com"),
        ("e-mail: fernanda.lima@padariadelicia.com.br", "fernanda.lima@padariadelicia.com.br"),
        ("JOSE.PEREZ@YAHOO.COM.MX", "JOSE.PEREZ@YAHOO.COM.MX"),
    ],
)
def test_emails_found(detector: PiiDetector, text: str, email: str) -> None:
    assert found(detector, text) == [("EMAIL_ADDRESS", "EMAIL_ADDRESS", email)]


def test_email_needs_a_public_suffix(detector: PiiDetector) -> None:
    assert found(detector, "usuario@servidor.local y admin@10.0.0.1x") == []
