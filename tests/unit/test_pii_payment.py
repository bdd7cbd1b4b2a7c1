"""Bank accounts, card security codes, EINs, and phones and e-mails written out in words."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ai.pii.detector import CATEGORY_OF_ENTITY, PiiDetector, get_detector, redact
from ai.pii.payment import clabe_check_digit, is_clabe

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return get_detector()


def found(detector: PiiDetector, text: str, language: str = "es") -> list[tuple[str, str]]:
    return [(f.category, f.text_in(text)) for f in detector.detect(text, language)]


def test_clabe_check_digit() -> None:
    assert clabe_check_digit("00218070123456789") == 5  # weights 3, 7, 1 modulo 10
    assert is_clabe("002180701234567895")
    assert not is_clabe("002180701234567894")
    assert not is_clabe("00218070123456789")


@pytest.mark.parametrize(
    ("language", "text", "number"),
    [
        ("es", "mi CLABE para el reembolso: 002 180 70123456789 5", "002 180 70123456789 5"),
        ("es", "deposítenme al 002180701234567895 si sobra", "002180701234567895"),  # checked, no cue needed
        ("en", "send it to IBAN DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00"),
        ("pt", "ou no GB29NWBK60161331926819, tanto faz", "GB29NWBK60161331926819"),
        ("en", "ACH from routing 021000021 today", "021000021"),
        ("en", "checking account 000123456789 at Chase", "000123456789"),
        ("es", "número de cuenta es 0456123987 por si acaso", "0456123987"),
        ("pt", "Itaú ag. 0341, conta corrente 12345-6", "0341"),
        ("pt", "Itaú ag. 0341, conta corrente 12345-6", "12345-6"),
        ("pt", "chave pix 123e4567-e89b-42d3-a456-426614174000", "123e4567-e89b-42d3-a456-426614174000"),
    ],
)
def test_bank_accounts_are_found(detector: PiiDetector, language: str, text: str, number: str) -> None:
    assert ("BANK_ACCOUNT", number) in found(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "pedido 002180701234567894 listo"),  # 18 digits, wrong CLABE check digit, no cue
        ("es", "la cuenta de la factura 10234 son 3 cajas"),  # a bill, an invoice number
        ("pt", "a conta deu 1500 reais"),
        ("en", "Order 071000013 shipped"),  # a valid routing checksum, but nothing says it is one
        ("en", "account 1234"),
        ("en", "ref 123e4567-e89b-12d3-a456-426614174000"),  # a version-1 UUID is a system id
        ("es", "tiene 123 cajas, 24 por caja"),
    ],
)
def test_numbers_that_are_no_bank_accounts(detector: PiiDetector, language: str, text: str) -> None:
    assert [c for c, _ in found(detector, text, language) if c == "BANK_ACCOUNT"] == []


def test_a_mistyped_clabe_counts_beside_its_cue(detector: PiiDetector) -> None:
    assert found(detector, "CLABE 002180701234567894") == [("BANK_ACCOUNT", "002180701234567894")]


def test_card_security_codes_are_card_data(detector: PiiDetector) -> None:
    text = "card 4111 1111 1111 1111 exp 04/27 cvv 123, thanks"
    assert found(detector, text, "en") == [("CREDIT_CARD", "4111 1111 1111 1111"), ("CREDIT_CARD", "123")]
    assert redact(text, detector.detect(text, "en")) == "card <CREDIT_CARD> exp 04/27 cvv <CREDIT_CARD>, thanks"
    assert found(detector, "código de seguridad: 4821", "es") == [("CREDIT_CARD", "4821")]


def test_an_ein_needs_its_context(detector: PiiDetector) -> None:
    assert found(detector, "our EIN is 36-4178253", "en") == [("NATIONAL_ID", "36-4178253")]
    assert found(detector, "part 36-4178253 x 4", "en") == []


@pytest.mark.parametrize(
    ("language", "text", "phone"),
    [
        ("es", "mi cel es cinco cinco uno dos tres cuatro cinco seis siete ocho",
         "cinco cinco uno dos tres cuatro cinco seis siete ocho"),
        ("pt", "me liga: um um, nove oito sete seis cinco, quatro três dois um",
         "um um, nove oito sete seis cinco, quatro três dois um"),
        ("en", "call me, five five five, oh one four seven", "five five five, oh one four seven"),
        ("es", "al 55 doce? no: 55 uno dos tres cuatro cinco seis siete ocho", "55 uno dos tres cuatro cinco seis siete ocho"),
    ],
)
def test_phones_spelled_out(detector: PiiDetector, language: str, text: str, phone: str) -> None:
    assert ("PHONE_NUMBER", phone) in found(detector, text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "dos cajas tres paquetes y uno de cinco"),
        ("es", "seis siete ocho nueve cinco cuatro tres cajas"),  # seven digits, no phone word: quantities
        ("en", "five five five, oh one four seven"),
    ],
)
def test_number_words_that_are_no_phone(detector: PiiDetector, language: str, text: str) -> None:
    assert found(detector, text, language) == []


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("correo ana.lopez arroba gmail punto com", "ana.lopez arroba gmail punto com"),
        ("mándalo a ana @ gmail.com", "ana @ gmail.com"),
        ("write to ana(at)gmail(dot)com", "ana(at)gmail(dot)com"),
        ("mail: juan [at] empresa [dot] com [dot] mx", "juan [at] empresa [dot] com [dot] mx"),
    ],
)
def test_emails_written_out(detector: PiiDetector, text: str, email: str) -> None:
    assert found(detector, text) == [("EMAIL_ADDRESS", email)]


def test_an_address_with_a_mistyped_suffix_counts_beside_its_cue(detector: PiiDetector) -> None:
    assert found(detector, "correo: ana@gmail.con") == [("EMAIL_ADDRESS", "ana@gmail.con")]
    assert found(detector, "ana@gmail.con") == []


def test_a_word_at_a_web_address_is_no_email(detector: PiiDetector) -> None:
    assert found(detector, "2 cases at Costco.com", "en") == []
    assert found(detector, "mándame 3 cajas at gmail punto xyzq", "es") == []


def test_every_entity_has_a_category() -> None:
    entities = {e for r in get_detector().analyzer.registry.recognizers for e in r.supported_entities}
    assert entities <= set(CATEGORY_OF_ENTITY)
    assert {"BANK_ACCOUNT", "CARD_CVV", "US_EIN"} <= entities


OFFLINE_CHECK = textwrap.dedent("""
    import socket
    attempts = []
    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled for this test")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    from ai.pii.detector import PiiDetector
    detector = PiiDetector()
    text = "correo: ventas@abarrotes-lupita.com.mx o maria arroba empresa punto mx"
    print(sorted(f.text_in(text) for f in detector.detect(text, "es")), len(attempts))
""")


def test_emails_are_checked_offline_with_the_bundled_suffix_list(tmp_path: Path) -> None:
    """No network, an empty home and cache: the e-mail recognizers fetch nothing and write no cache."""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "TLDEXTRACT_CACHE": str(tmp_path / "tld"), "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.run([sys.executable, "-c", OFFLINE_CHECK], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True)
    assert run.stdout.strip() == "['maria arroba empresa punto mx', 'ventas@abarrotes-lupita.com.mx'] 0"
    assert not (tmp_path / "tld").exists() and not (tmp_path / "cache" / "python-tldextract").exists()
