"""Token counts equal a reference tokenizer, offline.

References: tiktoken itself, loading the OpenAI BPE files after they pass tiktoken's own sha256
pins (so the vocabulary quicktok ships is proven to be OpenAI's); Meta's Llama 3 tokenizer.model
identified by its published sha256 and encoded by tiktoken with Meta's regex (llama-models
tokenizer.py); mistral-common's own encode_chat_completion for the Mistral chat template.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import random
import re
import struct
from pathlib import Path

import pytest
import quicktok
import tiktoken
from tiktoken_ext import openai_public

from src.models import Example, Turn
from src.targets import tokens as tc

TEXTS: dict[str, str] = json.loads(
    (Path(__file__).parent / "data" / "tokens" / "texts.json").read_text(encoding="utf-8"))
# sha256 of Meta's Llama 3 / 3.1 original/tokenizer.model (Hugging Face LFS object id)
LLAMA3_SHA256 = "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}"
                  r"\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")  # llama-models models/llama3/tokenizer.py
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|step_id|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>"]


def bpe_file_text(vocab_name: str) -> bytes:
    """quicktok's bundled vocabulary rewritten in tiktoken's .tiktoken text format."""
    data = (Path(quicktok.__file__).parent / "data" / vocab_name).read_bytes()
    offset, ranks = 4, []
    while offset < len(data):
        (size,) = struct.unpack_from("<H", data, offset)
        token = data[offset + 2: offset + 2 + size]
        (rank,) = struct.unpack_from("<I", data, offset + 2 + size)
        ranks.append((rank, token))
        offset += 6 + size
    return "".join(f"{base64.b64encode(t).decode()} {r}\n" for r, t in sorted(ranks)).encode()


def _pinned(function_name: str) -> tuple[str, str]:
    """(url, expected sha256) that tiktoken_ext.openai_public pins for an encoding."""
    source = inspect.getsource(getattr(openai_public, function_name))
    url = re.search(r'"(https://[^"]+\.tiktoken)"', source).group(1)  # type: ignore[union-attr]
    return url, re.search(r'expected_hash="([0-9a-f]{64})"', source).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def openai_reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    cache = tmp_path_factory.mktemp("tiktoken_cache")
    for name, vocab in (("cl100k_base", "cl100k.vocab"), ("o200k_base", "o200k.vocab")):
        url, expected = _pinned(name)
        content = bpe_file_text(vocab)
        assert hashlib.sha256(content).hexdigest() == expected, f"{name} vocabulary is not OpenAI's"
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(content)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        return {n: tiktoken.get_encoding(n) for n in ("cl100k_base", "o200k_base")}


@pytest.fixture(scope="module")
def llama_reference() -> tiktoken.Encoding:
    content = bpe_file_text("llama3.vocab")
    assert hashlib.sha256(content).hexdigest() == LLAMA3_SHA256, "not Meta's Llama 3 vocabulary"
    ranks = {base64.b64decode(tok): int(rank) for tok, rank in
             (line.split() for line in content.decode().splitlines())}
    specials = LLAMA3_SPECIALS + [f"<|reserved_special_token_{2 + i}|>" for i in range(246)]
    return tiktoken.Encoding("llama3", pat_str=LLAMA3_PATTERN, mergeable_ranks=ranks,
                             special_tokens={t: len(ranks) + i for i, t in enumerate(specials)})


@pytest.mark.parametrize("provider,model,encoding", [
    ("openai", "gpt-4o-mini", "o200k_base"), ("openai", "gpt-4.1-2025-04-14", "o200k_base"),
    ("openai", "gpt-3.5-turbo", "cl100k_base")])
def test_openai_text_counts_equal_tiktoken(openai_reference, provider, model, encoding):
    ref = openai_reference[encoding]
    for name, text in TEXTS.items():
        assert tc.count_text_tokens(text, provider, model) == len(ref.encode_ordinary(text)), name
    everything = "\n".join(TEXTS.values())
    assert tc.count_text_tokens(everything, provider, model) == len(ref.encode_ordinary(everything))


def test_llama_text_counts_equal_meta_tokenizer(llama_reference):
    for name, text in TEXTS.items():
        assert tc.count_text_tokens(text, "llama", "llama-3.1-70b") == \
            len(llama_reference.encode_ordinary(text)), name


def _conversation(turns: int, system: str | None, offset: int = 0) -> list[dict]:
    texts = list(TEXTS.values())
    messages = [{"role": "system", "content": system}] if system else []
    for k in range(turns):
        messages += [{"role": "user", "content": texts[(offset + 2 * k) % len(texts)].strip() or "?"},
                     {"role": "assistant", "content": texts[(offset + 2 * k + 1) % len(texts)].strip()
                      or "ok"}]
    return messages


def test_openai_chat_overhead_follows_the_cookbook(openai_reference):
    ref = openai_reference["o200k_base"]
    messages = _conversation(2, "Be terse.") + [{"role": "user", "content": "x", "name": "bob"},
                                                {"role": "assistant", "content": "y", "weight": 1}]
    expected = 3  # reply priming
    for m in messages:
        expected += 3 + sum(len(ref.encode_ordinary(str(m[k]))) for k in ("role", "content", "name")
                            if k in m) + ("name" in m)
    assert tc.count_example_tokens({"messages": messages}, "openai", "gpt-4o") == expected


def test_llama_chat_count_equals_rendered_template(llama_reference):
    for offset in range(0, 20, 3):
        messages = _conversation(2, "Answer from the context.", offset)
        if any("<|" in m["content"] for m in messages):
            continue  # look-alikes of special tokens are plain text for us (as in Meta's ChatFormat)
        rendered = "<|begin_of_text|>" + "".join(
            f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content'].strip()}<|eot_id|>"
            for m in messages)
        assert tc.count_example_tokens({"messages": messages}, "llama", "llama-3.1-8b") == \
            len(llama_reference.encode(rendered, allowed_special="all"))


@pytest.mark.parametrize("model,tok_id", [("open-mistral-7b", "mistral_v3"),
                                          ("open-mistral-nemo", "tekken"),
                                          ("open-mixtral-8x7b", "mistral_v1"),
                                          ("mistral-large-2407", "mistral_v3")])
def test_mistral_counts_equal_mistral_common(model, tok_id):
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    assert tc.tokenizer_id("mistral", model) == tok_id
    reference = tc.mistral_tokenizer(tok_id)
    for offset, turns, system in [(0, 1, None), (3, 2, "Be brief."), (7, 3, " spaced system "),
                                  (11, 1, "日本語")]:
        messages = _conversation(turns, system, offset)
        expected = len(reference.encode_chat_completion(
            ChatCompletionRequest.from_openai(messages)).tokens)
        assert tc.count_example_tokens({"messages": messages}, "mistral", model) == expected


def test_exactness_labels_and_ft_prefix():
    assert tc.is_exact("openai", "gpt-4o-mini") and tc.is_exact("mistral", "open-mistral-7b")
    assert not tc.is_exact("google", "gemini-2.5-pro") and not tc.is_exact("anthropic", "claude-3-haiku")
    assert "estimate" in tc.tokenizer_name("google", "gemini-2.5-flash")
    # tiktoken's own prefix table maps this to cl100k_base (wrong); we use the base snapshot
    assert tc.tokenizer_id("openai", "ft:gpt-4.1-mini-2025-04-14:acme::abc123") == "o200k_base"
    assert tc.tokenizer_id("openai", "gpt-3.5-turbo-0125") == "cl100k_base"


def test_agent_models_outside_the_catalog_get_a_family_tokenizer():
    assert tc.tokenizer_id("anthropic", "claude-haiku-4-5") == "estimate_claude"
    assert tc.tokenizer_id("mistral", "mistral-small-latest") == "tekken"
    assert tc.tokenizer_id("llama", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo") == "llama3"
    assert tc.tokenizer_id("openai", "gpt-4.1-nano") == "o200k_base"
    assert tc.count_text_tokens("hello world", "openai", "gpt-4o-mini") == 2
    assert tc.count_text_tokens("", "google", "gemini-2.5-flash") == 0


@pytest.mark.parametrize("provider,model,proxy", [("google", "gemini-2.5-flash", "o200k_base"),
                                                  ("anthropic", "claude-3-haiku", "cl100k_base")])
def test_estimates_err_high_against_their_proxy_tokenizer(openai_reference, provider, model, proxy):
    ref = openai_reference[proxy]
    for name, text in TEXTS.items():
        exact = len(ref.encode_ordinary(text))
        estimate = tc.count_text_tokens(text, provider, model)
        assert exact <= estimate <= 1.3 * exact + 1, (name, exact, estimate)


def test_example_objects_and_records_count_the_same():
    example = Example(turns=[Turn("user", "What is the fee?"), Turn("assistant", "₹1,50,000.")],
                      system="Answer from the context.")
    record = {"messages": [{"role": "system", "content": "Answer from the context."},
                           {"role": "user", "content": "What is the fee?"},
                           {"role": "assistant", "content": "₹1,50,000."}]}
    for provider, model in [("openai", "gpt-4o"), ("mistral", "open-mistral-7b"),
                            ("llama", "llama-3.1-8b"), ("google", "gemini-2.5-pro")]:
        assert tc.count_example_tokens(example, provider, model) == \
            tc.count_example_tokens(record, provider, model) > 0


def test_count_jsonl_reports_each_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}\n'
                    "not json\n", encoding="utf-8")
    result = tc.count_jsonl(path, "openai", "gpt-4o-mini")
    assert [r["line"] for r in result["examples"]] == [1] and result["skipped_lines"] == [2]
    assert result["total_tokens"] == result["examples"][0]["tokens"] > 0
    assert result["token_counts"] == "exact"


# --- word-by-word counting of Mistral tokenizers (exact, cached) ----------------------------------
MISTRAL_MODELS = {"mistral_v3": "open-mistral-7b", "tekken": "open-mistral-nemo",
                  "mistral_v1": "open-mixtral-8x7b"}
# pieces that stress word boundaries: space runs, other whitespace, "▁" (sentencepiece's space)
ALPHABET = list("  ▁ab c\t\n\r1234.,'\"-/日本語€😀ẞ\u00a0\u3000\u2028") + [
    "the", " the", "ing", "  ", "\n\n", " \n", "def ", "[INST]", "<s>", "[REFERENCE_DOC_1]", "É", " 's"]
# Unicode White_Space (PropList.txt): what tekken's regex engine (Rust) calls \s
UNICODE_WHITE_SPACE = [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                       0x2028, 0x2029, 0x202F, 0x205F, 0x3000]


def random_texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30))) for _ in range(n)]


@pytest.mark.parametrize("tok_id", list(MISTRAL_MODELS))
def test_word_counts_equal_the_tokenizer_on_random_and_varied_text(tok_id):
    assert tc._word_counter(tok_id) is not None, "the premises of word counting no longer hold"
    inner = tc.mistral_tokenizer(tok_id).instruct_tokenizer.tokenizer
    edge = ["", " ", "  ", "a ", " a", "a  b", "a\u2581 b", "\u2581", "x \n y", "\t a", "end. "]
    for text in [*TEXTS.values(), *edge, *random_texts(1, 2000)]:
        expected = len(inner.encode(text, bos=False, eos=False))
        assert tc.count_text_tokens(text, "mistral", MISTRAL_MODELS[tok_id]) == expected, repr(text)


@pytest.mark.parametrize("tok_id", list(MISTRAL_MODELS))
def test_batched_total_equals_the_sum_of_single_counts(tok_id):
    counter = tc._word_counter(tok_id)
    inner = tc.mistral_tokenizer(tok_id).instruct_tokenizer.tokenizer
    rng = random.Random(2)
    texts = random_texts(3, 600) + list(TEXTS.values())
    for _ in range(200):
        batch = rng.sample(texts, rng.randint(1, 6))
        assert counter.total(batch) == sum(counter.count(t) for t in batch) == \
            sum(len(inner.encode(t, bos=False, eos=False)) for t in batch), batch


def test_a_full_word_cache_is_emptied_without_changing_counts(monkeypatch):
    monkeypatch.setattr(tc, "WORD_CACHE_MAX", 3)
    inner = tc.mistral_tokenizer("mistral_v3").instruct_tokenizer.tokenizer
    for text in random_texts(4, 300) * 2:
        assert tc.count_text_tokens(text, "mistral", "open-mistral-7b") == \
            len(inner.encode(text, bos=False, eos=False))
    assert len(tc._word_counter("mistral_v3").first) <= 40


def test_python_whitespace_covers_the_unicode_white_space_tekken_splits_on():
    # word boundaries are cut after Python's \S: it must never hold a character tekken calls \s
    assert all(re.fullmatch(r"\s", chr(cp)) for cp in UNICODE_WHITE_SPACE)


class FakeSentencePiece:
    """A sentencepiece processor with a chosen vocabulary and normalizer output."""

    def __init__(self, pieces: list[str], normalized: str):
        self.pieces, self.normalized = pieces, normalized

    def get_piece_size(self) -> int:
        return len(self.pieces)

    def id_to_piece(self, i: int) -> str:
        return self.pieces[i]

    def normalize(self, text: str) -> str:
        return self.normalized

    def encode(self, text: str) -> list[int]:
        return [0] * len(text)


class FakeTiktoken:
    special_tokens_set: set[str] = set()

    def __init__(self, pattern: str):
        self._pat_str = pattern

    def encode_ordinary(self, text: str) -> list[int]:
        return [0] * len(text)


def test_word_counting_is_refused_when_a_premise_fails():
    good = "\u2581a\u2581\u2581b\tc\u2581"
    assert tc._sentencepiece_counter(FakeSentencePiece(["a", "\u2581\u2581b"], good)) is not None
    assert tc._sentencepiece_counter(FakeSentencePiece(["a", "b\u2581c"], good)) is None
    assert tc._sentencepiece_counter(FakeSentencePiece(["a"], "\u2581a\u2581b\tc")) is None
    assert tc._tekken_counter(FakeTiktoken(tc.TEKKEN_PATTERN)) is not None
    assert tc._tekken_counter(FakeTiktoken(r"\S+|\s+")) is None


def _random_conversation(rng: random.Random) -> list[dict]:
    def text() -> str:
        return rng.choice(list(TEXTS.values())) if rng.random() < 0.5 else \
            "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 20)))
    messages = [{"role": "system", "content": text()}] if rng.random() < 0.6 else []
    for _ in range(rng.randint(1, 4)):
        messages += [{"role": "user", "content": text()}, {"role": "assistant", "content": text()}]
    return messages


@pytest.mark.parametrize("tok_id", list(MISTRAL_MODELS))
def test_chat_template_arithmetic_equals_mistral_common_on_random_conversations(tok_id):
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    reference, rng = tc.mistral_tokenizer(tok_id), random.Random(5)
    for _ in range(60):
        messages = _random_conversation(rng)
        expected = len(reference.encode_chat_completion(
            ChatCompletionRequest.from_openai(messages)).tokens)
        assert tc.count_example_tokens({"messages": messages}, "mistral", MISTRAL_MODELS[tok_id]) \
            == expected, messages
