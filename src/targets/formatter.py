"""Internal Example -> one JSONL record in a target's format, and any such record back to messages.

Formats (see ../shared/reference/provider_specs.md): openai / mistral / llama / together /
fireworks chat `messages`; anthropic (Bedrock Claude 3 Haiku) `system` + alternating `messages`;
amazon (Bedrock Nova, `bedrock-conversation-2024`) `schemaVersion` + `system` + `messages` with
text content blocks; google (Vertex Gemini) `systemInstruction` + `contents` with user/model
`parts`; mistral_instruct (the SetForge record); alpaca and sharegpt (LLaMA-Factory layouts [P1]);
trl (conversational prompt/completion) and messages (alternating chat for axolotl, LLaMA-Factory,
Parquet and the Hub).

The prompt never holds the answer: alpaca-style `input` is empty unless `include_context` asks for
the source passage, and then every answer of the conversation is cut out of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from src.config import RECORD_FORMATS, TARGET_PROVIDERS
from src.errors import ConfigError
from src.models import Example, Turn

NATIVE = {provider: provider for provider in TARGET_PROVIDERS}  # each target's own format
FORMATS = (*RECORD_FORMATS, "trl", "messages")  # the last two: records inside bundle exports
SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "system": "system"}
NOVA_SCHEMA = "bedrock-conversation-2024"
CUT = "[…]"  # what stands where an answer was cut out of the source passage
MIN_CUT_WORDS = 4  # answer sentences this long or longer are cut from the passage on their own
METADATA_KEYS = ("context_source", "question_type", "persona", "domain_entity", "topic_keywords")


@dataclass(frozen=True)
class FormatOptions:
    """output.include_context and output.control_tokens (config.yaml)."""

    include_context: bool = False
    control_tokens: bool = False


def native_format(provider: str) -> str:
    """The JSONL format a provider's fine-tuning service reads."""
    if provider not in NATIVE:
        raise ConfigError(f"Unknown provider {provider!r}: choose one of {', '.join(NATIVE)}.")
    return NATIVE[provider]


def merged_turns(turns: list[Turn]) -> list[Turn]:
    """Consecutive turns of the same role joined with a blank line (for alternating formats)."""
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].role == t.role:
            out[-1] = Turn(t.role, f"{out[-1].content}\n\n{t.content}")
        else:
            out.append(Turn(t.role, t.content))
    return out


def _chat(example: Example) -> dict:
    messages = [{"role": "system", "content": example.system}] if example.system else []
    messages += [{"role": t.role, "content": t.content} for t in example.turns]
    return {"messages": messages}


def _anthropic(example: Example) -> dict:
    record: dict[str, Any] = {"system": example.system} if example.system else {}
    record["messages"] = [{"role": t.role, "content": t.content} for t in merged_turns(example.turns)]
    return record


def _google(example: Example) -> dict:
    record: dict[str, Any] = {}
    if example.system:
        record["systemInstruction"] = {"parts": [{"text": example.system}]}
    record["contents"] = [{"role": "model" if t.role == "assistant" else "user",
                           "parts": [{"text": t.content}]} for t in merged_turns(example.turns)]
    return record


def _pairs(example: Example) -> list[tuple[str, str]]:
    turns = merged_turns(example.turns)
    pairs, question = [], ""
    for t in turns:
        if t.role == "user":
            question = t.content
        else:
            pairs.append((question, t.content))
            question = ""
    return pairs or [(question, "")]


def _mistral_prompt(example: Example, pairs: list[tuple[str, str]]) -> str:
    """<s>[INST] q1 [/INST] a1</s>[INST] q2 [/INST]: the system prompt leads the first question."""
    text = "<s>"
    for i, (question, answer) in enumerate(pairs):
        if i == 0 and example.system:
            question = f"{example.system}\n\n{question}"
        text += f"[INST] {question} [/INST]"
        if i < len(pairs) - 1:
            text += f" {answer}</s>"
    return text


def _words_pattern(text: str) -> re.Pattern[str] | None:
    words = text.split()
    return re.compile(r"\s+".join(map(re.escape, words)), re.IGNORECASE) if words else None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?。！？])\s+|\n+", text) if len(s.split()) >= MIN_CUT_WORDS]


def strip_answers(context: str, answers: list[str]) -> str:
    """The source passage with every answer, and every longer sentence of one, cut out."""
    for answer in answers:
        for piece in sorted({answer.strip(), *_sentences(answer)}, key=len, reverse=True):
            pattern = _words_pattern(piece)
            if pattern is not None:
                context = pattern.sub(CUT, context)
    context = re.sub(rf"(?:{re.escape(CUT)}\s*){{2,}}", CUT + " ", context).strip()
    return context if re.search(r"\w", context.replace(CUT, "")) else ""


def answer_in_prompt(answer: str, prompt: str) -> bool:
    """True when the answer appears word for word (case and spacing aside) inside the prompt."""
    norm_answer = " ".join(answer.split()).casefold()
    return bool(norm_answer) and norm_answer in " ".join(prompt.split()).casefold()


def _context(example: Example, pairs: list[tuple[str, str]], options: FormatOptions) -> str:
    if not options.include_context or not example.context:
        return ""
    return strip_answers(example.context, [a for _, a in pairs if a])


def _mistral_instruct(example: Example, options: FormatOptions) -> dict:
    pairs = _pairs(example)
    record: dict[str, Any] = {"instruction": pairs[-1][0], "input": _context(example, pairs, options),
                              "output": pairs[-1][1]}
    if options.control_tokens:  # SetForge's raw layout: the chat template is in the text
        record["instruction"] = _mistral_prompt(example, pairs)
    else:
        record["system"] = example.system or ""
        record["history"] = [[q, a] for q, a in pairs[:-1]]
    return {**record, "context_source": example.source_file,
            "question_type": example.question_type, "persona": example.persona,
            "domain_entity": getattr(example, "domain_entity", "") or "",
            "topic_keywords": list(example.topic_keywords)}


def _alpaca(example: Example, options: FormatOptions) -> dict:
    """instruction = the last question; history = the earlier pairs (always present, maybe [])."""
    pairs = _pairs(example)
    return {"instruction": pairs[-1][0], "input": _context(example, pairs, options),
            "output": pairs[-1][1], "system": example.system or "",
            "history": [[q, a] for q, a in pairs[:-1]]}


def _nova(example: Example) -> dict:
    record: dict[str, Any] = {"schemaVersion": NOVA_SCHEMA}
    if example.system:
        record["system"] = [{"text": example.system}]
    record["messages"] = [{"role": t.role, "content": [{"text": t.content}]}
                          for t in merged_turns(example.turns)]
    return record


def _messages(example: Example) -> dict:
    """Alternating chat (consecutive turns of one role merged), system first when present."""
    system = [{"role": "system", "content": example.system}] if example.system else []
    return {"messages": system + [{"role": t.role, "content": t.content}
                                  for t in merged_turns(example.turns)]}


def _trl(example: Example) -> dict:
    """TRL conversational prompt-completion: the last assistant turn is the completion."""
    messages = _messages(example)["messages"]
    cut = len(messages) - 1 if messages and messages[-1]["role"] == "assistant" else len(messages)
    return {"prompt": messages[:cut], "completion": messages[cut:]}


def _sharegpt(example: Example) -> dict:
    record: dict[str, Any] = {"conversations": [
        {"from": SHAREGPT_ROLES[t.role], "value": t.content} for t in merged_turns(example.turns)]}
    if example.system:
        record["system"] = example.system
    return record


_WRITERS = {"openai": _chat, "mistral": _chat, "llama": _chat, "together": _chat,
            "fireworks": _chat, "anthropic": _anthropic, "amazon": _nova, "google": _google,
            "sharegpt": _sharegpt, "trl": _trl, "messages": _messages}
_WITH_OPTIONS = {"mistral_instruct": _mistral_instruct, "alpaca": _alpaca}


def format_example(example: Example, fmt: str, options: FormatOptions | None = None) -> dict:
    """One JSONL record for `fmt` (a provider name, an open-trainer format, trl or messages)."""
    if fmt in _WITH_OPTIONS:
        return _WITH_OPTIONS[fmt](example, options or FormatOptions())
    if fmt not in _WRITERS:
        raise ConfigError(f"Unknown output format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return _WRITERS[fmt](example)


# --- reading any of these records back --------------------------------------------------------
def detect_format(record: dict) -> str:
    """Best guess of a record's format from its keys (chat `messages` reads as openai)."""
    if "contents" in record or "systemInstruction" in record:
        return "google"
    if "conversations" in record:
        return "sharegpt"
    if "schemaVersion" in record:
        return "amazon"
    if "prompt" in record and "completion" in record:
        return "trl"
    if "instruction" in record:
        text = record.get("instruction")
        tokens = isinstance(text, str) and "[INST]" in text
        return "mistral_instruct" if tokens or any(k in record for k in METADATA_KEYS) else "alpaca"
    if "messages" in record and "system" in record:
        return "anthropic"
    return "openai"


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text of a list of parts; else ""."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}] blocks or Gemini parts
        return "".join(p["text"] for p in content if isinstance(p, dict)
                       and isinstance(p.get("text"), str))
    return ""


def _from_google(record: dict) -> list[dict]:
    system = record.get("systemInstruction")
    out: list[dict] = [{"role": "system", "content": content_text(system.get("parts"))}] \
        if isinstance(system, dict) else []
    for c in record.get("contents") or []:
        if isinstance(c, dict):
            role = "assistant" if c.get("role") == "model" else c.get("role")
            out.append({"role": role, "content": content_text(c.get("parts"))})
    return out


def _from_nova(record: dict) -> list[dict]:
    system = record.get("system")
    out = [{"role": "system", "content": content_text(system)}] if system else []
    return out + [{"role": m.get("role"), "content": content_text(m.get("content"))}
                  for m in record.get("messages") or [] if isinstance(m, dict)]


def _from_trl(record: dict) -> list[dict]:
    parts = [record.get("prompt"), record.get("completion")]
    return [m for part in parts if isinstance(part, list) for m in part if isinstance(m, dict)]


def _from_pairs(record: dict, question: str) -> list[dict]:
    out = [{"role": "system", "content": record["system"]}] if record.get("system") else []
    for pair in record.get("history") or []:
        if isinstance(pair, list) and len(pair) == 2:
            out += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    prompt = "\n".join(x for x in (question, record.get("input") or "") if isinstance(x, str) and x)
    return out + [{"role": "user", "content": prompt},
                  {"role": "assistant", "content": record.get("output", "")}]


def _from_sharegpt(record: dict) -> list[dict]:
    back = {v: k for k, v in SHAREGPT_ROLES.items()}
    out = [{"role": "system", "content": record["system"]}] if record.get("system") else []
    return out + [{"role": back.get(str(m.get("from")), m.get("from")), "content": m.get("value")}
                  for m in record.get("conversations") or [] if isinstance(m, dict)]


def to_messages(record: dict, fmt: str | None = None) -> list[dict]:
    """Any supported record as chat messages [{role, content, ...}] (system first when present)."""
    fmt = fmt or detect_format(record)
    if fmt == "google":
        return _from_google(record)
    if fmt == "amazon":
        return _from_nova(record)
    if fmt == "trl":
        return _from_trl(record)
    if fmt == "sharegpt":
        return _from_sharegpt(record)
    if fmt in ("alpaca", "mistral_instruct"):
        question = record.get("instruction", "")
        if fmt == "mistral_instruct" and isinstance(question, str):
            question = question.replace("<s>", "").replace("</s>", "\n")
        return _from_pairs(record, question if isinstance(question, str) else "")
    messages = record.get("messages")
    messages = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    if fmt == "anthropic" and isinstance(record.get("system"), str) and record["system"]:
        return [{"role": "system", "content": record["system"]}, *messages]
    return messages
