"""Privacy option: personal data out before text goes to a hosted LLM."""

from __future__ import annotations

import pytest

from src.ingest.redact import iban_ok, luhn_ok, redact


@pytest.mark.parametrize("text, kind", [
    ("Write to jane.doe+news@example.co.uk today", "email"),
    ("Call +44 20 7946 0958 after 5", "phone"),
    ("Call (212) 555-0147 or later", "phone"),
    ("Office 212-555-0147.", "phone"),
    ("Tel: 0171 234 567", "phone"),
    ("Card 4111 1111 1111 1111 expires", "card"),
    ("Card 5500-0000-0000-0004 expires", "card"),
    ("Pay to GB82 WEST 1234 5698 7654 32 now", "iban"),
    ("IBAN DE89370400440532013000.", "iban"),
    ("Account no. 12345678901 at the bank", "account"),
    ("key sk-proj-abcdefghijklmnop1234 leaked", "api_key"),
    ("aws AKIAIOSFODNN7EXAMPLE here", "api_key"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 here", "api_key"),
    ("password: hunter2hunter2.", "api_key"),
])
def test_each_kind_is_replaced(text, kind):
    redacted, counts = redact(text)
    assert counts == {kind: 1}
    assert f"[{kind.upper()}]" in redacted


def test_labels_and_surrounding_text_stay():
    redacted, _ = redact("Account no. 12345678901 and password: hunter2hunter2.")
    assert redacted == "Account no. [ACCOUNT] and password: [API_KEY]."


@pytest.mark.parametrize("text", [
    "The years 1999 2000 2001 were busy.",
    "Signed on 2023-01-15 at 10:30.",
    "Version 1.2.3 and ISBN 978-3-16-148410-0.",
    "Population 1,234,567 in 2020.",
    "Card-like but fails Luhn: 4111 1111 1111 1112.",
    "Not an IBAN: GB00 WEST 1234 5698 7654 32.",
    "Section 12.4.1 of the visa rules, fee 15000 INR.",
])
def test_ordinary_numbers_are_left_alone(text):
    assert redact(text) == (text, {})


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB83 WEST 1234 5698 7654 32")


def test_counts_add_up_over_a_document():
    text = "a@b.io, c@d.org; call +1 415 555 0100; card 4111111111111111"
    redacted, counts = redact(text)
    assert counts == {"email": 2, "phone": 1, "card": 1}
    assert "@" not in redacted and "4111" not in redacted
