"""Token counts with each target's own tokenizer, offline.

- OpenAI: o200k_base (gpt-4o, gpt-4.1 families) and cl100k_base (gpt-3.5-turbo) from quicktok-v1,
  whose bundled vocabularies hash-match tiktoken's published files (tests/test_token_counter.py
  proves the counts equal tiktoken's). Chat overhead follows OpenAI's cookbook
  (How_to_count_tokens_with_tiktoken / Chat_finetuning_data_prep): 3 tokens per message, 1 per
  `name`, 3 for reply priming. The notebook itself calls this an approximation.
- Llama 3.1: Meta's 128k vocabulary (quicktok "llama3", hash-identical to Meta's tokenizer.model)
  plus the chat-format tokens of llama-models' ChatFormat (host-added preambles not included).
- Mistral: mistral-common's own tokenizer files, version per model (catalog: 7B -> v3, as
  mistral-finetune uses; mistral-common's legacy alias table says v1, see the catalog note).
  Counts go word by word through a cache (~10x faster than sentencepiece), and stay exact:
  sentencepiece (v1, v3) normalizes text to "▁" + text with spaces as "▁" and its BPE only
  merges adjacent symbols into vocabulary pieces; as no piece holds a "▁" after another
  character, no token spans a point where "▁" follows a non-"▁", so a text's tokens are those of
  its words, each encodable alone. Tekken (Nemo): no match of its pre-tokenizer regex holds a
  space after a non-space. WordCounter checks these premises on load (else whole texts are
  encoded); tests compare it with the tokenizers on random text and conversations.
- Qwen 3 (Together, Fireworks): Qwen's 151k BPE (quicktok "qwen3", identical to Qwen3's
  tokenizer.json) over the ChatML template <|im_start|>role\ncontent<|im_end|>\n per message. A
  host whose template adds an empty <think></think> block to the answer adds a few tokens.
- Gemini, Claude and Nova: no offline tokenizer exists; a proxy-BPE estimate with a safety margin,
  always labeled "estimate" (is_exact() is False). Provider count-tokens APIs are not used yet.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import quicktok

from src.errors import ConfigError, InputFileError
from src.models import Example
from src.targets import catalog
from src.targets.formatter import content_text, to_messages

OPENAI_TOKENS_PER_MESSAGE = 3  # cookbook: every message is <|start|>{role/name}\n{content}<|end|>
OPENAI_TOKENS_PER_NAME = 1
OPENAI_REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>
ESTIMATE_TOKENS_PER_MESSAGE = 4  # role markers of an unknown template (estimate only)

# Estimates for targets with no offline tokenizer: an exact count with a proxy BPE, plus a safety
# margin, so limit checks err on the side of warning. A plain chars-per-token rule was tried first
# and rejected: at Google's "about 4 characters per token" [GT] it under-counted code, JSON and
# numbers by ~2x on tests/data/tokens/texts.json. Gemini (256k vocabulary) -> o200k_base x 1.1;
# Claude 3 (smaller vocabulary) -> cl100k_base x 1.2. The margins are judgement, not measured
# against the real tokenizers (none is available offline): shown as "estimate" everywhere.
# Nova (vocabulary unpublished) is treated like Claude.
ESTIMATE_PROXY = {"estimate_gemini": ("o200k_base", 1.1), "estimate_claude": ("cl100k_base", 1.2),
                  "estimate_nova": ("cl100k_base", 1.2)}

QUICKTOK_ENCODINGS = {"o200k_base": "o200k_base", "cl100k_base": "cl100k_base",
                      "llama3": "llama3", "qwen3": "qwen3"}
MISTRAL_FILES = {"mistral_v1": "tokenizer.model.v1",
                 "mistral_v3": "mistral_instruct_tokenizer_240323.model.v3",
                 "tekken": "tekken_240718.json"}
TOKENIZER_LABELS = {
    "o200k_base": "o200k_base (OpenAI, exact)", "cl100k_base": "cl100k_base (OpenAI, exact)",
    "llama3": "Llama 3 128k BPE (exact)", "qwen3": "Qwen 3 BPE + ChatML template (exact)",
    "mistral_v1": "mistral-common v1 sentencepiece (exact)",
    "mistral_v3": "mistral-common v3 sentencepiece (exact)",
    "tekken": "mistral-common v3 tekken (exact)",
    "estimate_gemini": "estimate (o200k_base x1.1; no offline Gemini tokenizer)",
    "estimate_claude": "estimate (cl100k_base x1.2; no offline Claude tokenizer)",
    "estimate_nova": "estimate (cl100k_base x1.2; no offline Nova tokenizer)",
}
CHATML = "<|im_start|>{role}\n{content}<|im_end|>\n"


@lru_cache(maxsize=1024)
def tokenizer_id(provider: str, model: str) -> str:
    """The tokenizer key for a target or agent model (catalog first, then the model family)."""
    try:
        return catalog.get_model(provider, model).tokenizer
    except ConfigError:  # not a catalog target (e.g. an agent model): decide by family
        return _family_tokenizer(provider, catalog.base_model_name(model).lower())


def _family_tokenizer(provider: str, model: str) -> str:
    if provider == "anthropic":
        return "estimate_claude"
    if provider == "google":
        return "estimate_gemini"
    if provider == "mistral":
        legacy = ("open-mistral-7b", "mistral-7b", "open-mixtral-8x22b", "mistral-large-2407")
        return "mistral_v3" if model.startswith(legacy) else "tekken"
    if "qwen" in model:
        return "qwen3"
    if provider == "openai" and model.startswith(("gpt-3.5", "gpt-4-", "gpt-4")) and \
            not model.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
        return "cl100k_base"
    return "llama3" if "llama" in model or provider == "llama" else "o200k_base"


def tokenizer_name(provider: str, model: str) -> str:
    """A human label of the tokenizer used, saying whether counts are exact or an estimate."""
    return TOKENIZER_LABELS[tokenizer_id(provider, model)]


def is_exact(provider: str, model: str) -> bool:
    """False when counts are an estimate (Gemini, Claude): label them as such wherever shown."""
    return not tokenizer_id(provider, model).startswith("estimate")


@cache
def _quicktok(name: str) -> Any:
    return quicktok.get_encoding(QUICKTOK_ENCODINGS[name])


@cache
def mistral_tokenizer(tok_id: str) -> Any:
    """mistral-common's MistralTokenizer for a version key, loaded from its bundled file."""
    # mistral-common takes ~1 s and tens of MB to import: only when a Mistral model is counted
    from mistral_common.protocol.instruct.validator import ValidationMode
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    path = MistralTokenizer._data_path() / MISTRAL_FILES[tok_id]
    return MistralTokenizer.from_file(str(path), mode=ValidationMode.finetuning)


SP_SPACE = "\u2581"  # sentencepiece's escaped space
WORD_CACHE_MAX = 500_000  # words kept per cache (~50 MB); cleared when full
# tekken's pre-tokenizer regex (mistral-common tekken_240718.json); word counting relies on it
TEKKEN_PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
                  r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
                  r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")


class _Cache(dict):
    """word -> token count, computed on first sight."""

    def __init__(self, count: Callable[[str], int]):
        super().__init__()
        self.count = count

    def __missing__(self, word: str) -> int:
        n = self[word] = self.count(word)
        return n


class WordCounter:
    """Exact token counts of a tokenizer whose tokens never span a word boundary.

    A boundary is a space after a character outside `blank` (sentencepiece: " "; tekken: \\s).
    Then the tokens of a text are those of its words, each counted once and cached: the first
    word as it stands, every other word with its leading space.
    """

    def __init__(self, encode: Callable[[str], Any], blank: str, lone_space: int | None = None,
                 space_alias: str = ""):
        self.alias = space_alias
        self.split = re.compile(f"(?<=[^{blank}])(?= )").split
        self.odd_space = re.compile(f"[{blank}] ").search  # where split(" ") would cut wrongly
        if lone_space is None:
            self.first = _Cache(lambda w: len(encode(w)))
            self.rest = _Cache(lambda w: len(encode(" " + w)))
        else:  # sentencepiece: the dummy prefix reads a first word like a later one
            self.first = self.rest = _Cache(lambda w: len(encode(w)) if w else lone_space)

    def clear(self) -> None:
        """Forget the cached word counts."""
        self.first.clear()
        self.rest.clear()

    def count(self, text: str) -> int:
        """len(encode(text)), from the cached counts of its words."""
        if not text:
            return 0
        if self.alias and self.alias in text:  # a character the tokenizer reads as a space
            text = text.replace(self.alias, " ")
        return self._sum(text, text[0] != " " and self.odd_space(text) is None)

    def total(self, texts: list[str]) -> int:
        """sum(count(t) for t in texts), counting their " "-join at once where that is the same."""
        if self.rest is not self.first:  # tekken: a text's first word differs from a later one
            return sum(map(self.count, texts))
        joined = " ".join(texts)
        if not joined:
            return 0
        if self.alias and self.alias in joined:
            joined = joined.replace(self.alias, " ")
        # no empty text and no space at a text's edge: the join's words are the texts' words
        if joined[:1] == " " or joined[-1:] == " " or self.odd_space(joined) is not None:
            return sum(map(self.count, texts))
        return self._sum(joined, True)

    def _sum(self, text: str, plain: bool) -> int:
        """Sum of word counts; `plain`: no leading space and each space follows a non-blank."""
        if len(self.rest) > WORD_CACHE_MAX or len(self.first) > WORD_CACHE_MAX:
            self.clear()
        if plain:
            words = text.split(" ")
        else:
            words = self.split(text)
            words[1:] = [w[1:] for w in words[1:]]
        return self.first[words[0]] + sum(map(self.rest.__getitem__, words[1:]))


def _sentencepiece_counter(sp: Any) -> WordCounter | None:
    """A WordCounter when the premises hold: "▁" only leads pieces and spaces become "▁"."""
    pieces = (sp.id_to_piece(i) for i in range(sp.get_piece_size()))
    if any(SP_SPACE in piece.lstrip(SP_SPACE) for piece in pieces) or \
            sp.normalize("a  b\tc ") != f"{SP_SPACE}a{SP_SPACE * 2}b\tc{SP_SPACE}":
        return None
    lone_space = len(sp.encode("a ")) - len(sp.encode("a"))  # "▁" alone, after a word
    return WordCounter(sp.encode, " ", lone_space, space_alias=SP_SPACE)


def _tekken_counter(enc: Any) -> WordCounter | None:
    """A WordCounter when tekken still splits text with the regex that word counting assumes."""
    if getattr(enc, "_pat_str", None) != TEKKEN_PATTERN or enc.special_tokens_set:
        return None
    return WordCounter(enc.encode_ordinary, r"\s")


_WORD_COUNTERS: dict[str, WordCounter | None] = {}


def _word_counter(tok_id: str) -> WordCounter | None:
    """The WordCounter of a Mistral tokenizer, or None when a premise fails (then encode whole)."""
    if tok_id not in _WORD_COUNTERS:
        model = getattr(mistral_tokenizer(tok_id).instruct_tokenizer.tokenizer, "_model", None)
        _WORD_COUNTERS[tok_id] = None if model is None else (
            _tekken_counter(model) if tok_id == "tekken" else _sentencepiece_counter(model))
    return _WORD_COUNTERS[tok_id]


def clear_word_caches() -> None:
    """Forget all cached word counts (benchmarks time a cold cache with it)."""
    for counter in _WORD_COUNTERS.values():
        if counter is not None:
            counter.clear()


def _estimate(text: str, tok_id: str) -> int:
    proxy, margin = ESTIMATE_PROXY[tok_id]
    return math.ceil(int(_quicktok(proxy).count(text)) * margin)


def _count(text: str, tok_id: str) -> int:
    if tok_id in QUICKTOK_ENCODINGS:
        return int(_quicktok(tok_id).count(text))
    if tok_id in MISTRAL_FILES:
        counter = _word_counter(tok_id)
        if counter is None:  # a premise of word counting failed: encode the whole text
            inner = mistral_tokenizer(tok_id).instruct_tokenizer.tokenizer
            return len(inner.encode(text, bos=False, eos=False))
        return counter.count(text)
    return _estimate(text, tok_id)


def count_text_tokens(text: str, provider: str, model: str) -> int:
    """Tokens of plain text (no chat overhead) with the model's tokenizer; used for chunking."""
    return _count(text, tokenizer_id(provider, model)) if text else 0


# --- whole examples ------------------------------------------------------------------------------
Messages = list[dict[str, Any]]


def _messages_of(record_or_example: Example | dict) -> Messages:
    if isinstance(record_or_example, Example):
        ex = record_or_example
        system = [{"role": "system", "content": ex.system}] if ex.system else []
        return system + [{"role": t.role, "content": t.content} for t in ex.turns]
    return to_messages(record_or_example)


def _text(message: dict) -> str:
    return content_text(message.get("content"))


@lru_cache(maxsize=256)
def _short_count(text: str, tok_id: str) -> int:
    """Counts of role names and other short repeated strings, cached."""
    return _count(text, tok_id)


def _openai_count(messages: Messages, tok_id: str) -> int:
    count = _quicktok(tok_id).count
    total = OPENAI_REPLY_PRIMING
    for m in messages:
        content = m.get("content")
        total += OPENAI_TOKENS_PER_MESSAGE + _short_count(str(m.get("role", "")), tok_id)
        total += count(content) if isinstance(content, str) else count(_text(m))
        if m.get("name"):
            total += OPENAI_TOKENS_PER_NAME + _count(str(m["name"]), tok_id)
        calls = m.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                total += _count(str(fn.get("name", "")) + str(fn.get("arguments", "")), tok_id)
    return total


def _llama_count(messages: Messages) -> int:
    """<|begin_of_text|> + per message <|start_header_id|>role<|end_header_id|>\\n\\n text <|eot_id|>."""
    total = 1
    for m in messages:
        total += 3 + _short_count(str(m.get("role", "")), "llama3") + 1
        total += _count(_text(m).strip(), "llama3")
    return total


def _chatml_count(messages: Messages) -> int:
    """Qwen's ChatML template, each message rendered and encoded with its special tokens."""
    encode = _quicktok("qwen3").encode
    return sum(len(encode(CHATML.format(role=m.get("role", ""), content=_text(m)),
                          allowed_special="all")) for m in messages)


def _mistral_count(messages: Messages, tok_id: str) -> int:
    """mistral-common's instruct template: BOS, [INST] user [/INST], answer + EOS per turn.

    Plain conversations are counted piecewise with the same inner tokenizer calls mistral-common
    makes (tests check equality with its encode_chat_completion); anything else goes through it.
    """
    pieces = _mistral_pieces(messages, tok_id)
    if pieces is None:
        return _mistral_full_count(messages, tok_id)
    texts, overhead = pieces
    counter = _word_counter(tok_id)
    return overhead + (counter.total(texts) if counter else sum(_count(t, tok_id) for t in texts))


def _mistral_pieces(messages: Messages, tok_id: str) -> tuple[list[str], int] | None:
    """(the texts mistral-common encodes, the special tokens around them) for a chat of an
    optional system prompt + user/assistant pairs of plain text; None for any other chat."""
    system = messages[0].get("content") if messages and messages[0].get("role") == "system" else None
    turns = messages[1:] if system is not None else messages
    if not turns or len(turns) % 2 or not (system is None or isinstance(system, str)):
        return None
    v1 = tok_id == "mistral_v1"
    # v1 prepends the system prompt to the first user turn, v2/v3 to the last one [M4]
    sys_at = 0 if v1 else len(turns) - 2
    texts = []
    for i in range(0, len(turns), 2):
        user, answer = turns[i], turns[i + 1]
        question, reply = user.get("content"), answer.get("content")
        if user.get("role") != "user" or answer.get("role") != "assistant" or \
                not (isinstance(question, str) and question and isinstance(reply, str) and reply) \
                or user.get("tool_calls") or answer.get("tool_calls"):
            return None
        if i == sys_at and system:
            question = f"{system}\n\n{question}"
        # [INST] and [/INST] are text in v1, special tokens from v2 on
        texts += [f"[INST] {question} [/INST]", reply] if v1 else [question, reply.rstrip(" ")]
    return texts, 1 + len(turns) // 2 * (1 if v1 else 3)  # BOS; EOS (+ [INST] [/INST]) per pair


def _mistral_full_count(messages: Messages, tok_id: str) -> int:
    # mistral-common is imported only when a Mistral target is counted (it is slow to import)
    from mistral_common.exceptions import MistralCommonException
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from pydantic import ValidationError

    try:
        request = ChatCompletionRequest.from_openai(messages)
        return len(mistral_tokenizer(tok_id).encode_chat_completion(request).tokens)
    except (MistralCommonException, ValidationError, ValueError, TypeError, KeyError):
        # not a valid Mistral conversation: the validator reports why
        return 1 + sum(2 + _count(_text(m), tok_id) for m in messages)


def _estimate_count(messages: Messages, tok_id: str) -> int:
    return sum(ESTIMATE_TOKENS_PER_MESSAGE + _estimate(_text(m), tok_id) for m in messages)


def count_example_tokens(record_or_example: Example | dict, provider: str, model: str) -> int:
    """Tokens of one training example in the target's chat template (overhead included)."""
    tok_id = tokenizer_id(provider, model)
    messages = _messages_of(record_or_example)
    if tok_id in MISTRAL_FILES:
        return _mistral_count(messages, tok_id)
    if tok_id == "llama3":
        return _llama_count(messages)
    if tok_id == "qwen3":
        return _chatml_count(messages)
    if tok_id.startswith("estimate"):
        return _estimate_count(messages, tok_id)
    return _openai_count(messages, tok_id)


def count_jsonl(path: str | Path, provider: str, model: str) -> dict[str, Any]:
    """Per-line token counts of a JSONL file: {"examples": [{"line", "tokens"}], totals, labels}."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(str(path), "no such file: check the path.")
    rows, skipped = [], []
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            try:
                record = json.loads(raw)
                rows.append({"line": line_no, "tokens": count_example_tokens(record, provider, model)})
            except (ValueError, TypeError, AttributeError):
                skipped.append(line_no)
    counts = [r["tokens"] for r in rows]
    return {"provider": provider, "model": model, "tokenizer": tokenizer_name(provider, model),
            "token_counts": "exact" if is_exact(provider, model) else "estimate",
            "examples": rows, "total_tokens": sum(counts), "max_tokens": max(counts, default=0),
            "mean_tokens": round(sum(counts) / len(counts), 1) if counts else 0,
            "skipped_lines": skipped}
