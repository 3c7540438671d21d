"""Offline language detection and the language_mismatch rule."""

from __future__ import annotations

import socket

import pytest

from src.quality import language

TEXTS = {
    "en": "The tuition fee for B.Tech at Sharda University is 1,20,000 rupees per year.",
    "fr": "Les frais de scolarité pour le B.Tech à l'université Sharda sont de 1 200 000 roupies par an.",
    "de": "Die Studiengebühren für den B.Tech an der Sharda University betragen 120000 Rupien pro Jahr.",
    "es": "La matrícula del B.Tech en la Universidad Sharda cuesta 120000 rupias al año y hay becas.",
    "bn": "শারদা বিশ্ববিদ্যালয়ে বি.টেক এর টিউশন ফি প্রতি বছর ১,২০,০০০ রুপি এবং বৃত্তি পাওয়া যায়।",
    "hi": "शारदा विश्वविद्यालय में बी.टेक की ट्यूशन फीस प्रति वर्ष 1,20,000 रुपये है।",
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("language detection tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_detects_common_languages_offline(code: str, no_network: None) -> None:
    assert language.detect(TEXTS[code]) == code


@pytest.mark.parametrize("text", ["", "Yes.", "₹1,20,000", "12345 678"])
def test_too_short_to_tell_is_und(text: str) -> None:
    assert language.detect(text) == "und"


def test_script_of_text() -> None:
    assert language.script(TEXTS["bn"]) == "BENGALI"
    assert language.script(TEXTS["hi"]) == "DEVANAGARI"
    assert language.script(TEXTS["en"]) == "LATIN"
    assert language.script("1234 ₹") == ""


def test_mismatch_against_the_source_language() -> None:
    assert language.mismatch(TEXTS["bn"], TEXTS["en"]) == "language: sample is bn, its source is en"
    assert language.mismatch(TEXTS["en"], TEXTS["en"] + " Scholarships are available.") is None
    assert language.mismatch("Yes.", TEXTS["bn"]) is None  # too short to judge
    assert language.mismatch(TEXTS["en"], "") is None  # no source, no target: nothing to compare


def test_target_language_overrides_the_source() -> None:
    assert language.mismatch(TEXTS["bn"], TEXTS["en"], target_language="bn") is None
    assert language.mismatch(TEXTS["en"], TEXTS["en"], target_language="bn") == \
        "language: sample is en, target_language is bn"
