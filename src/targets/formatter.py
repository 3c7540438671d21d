"""Internal Example -> one JSONL record in a target's format, and any such record back to messages.

Formats (see ../shared/reference/provider_specs.md): openai / mistral / llama chat `messages`;
anthropic (Bedrock Claude 3 Haiku) `system` + alternating `messages`; google (Vertex Gemini)
`systemInstruction` + `contents` with user/model `parts`; mistral_instruct (the SetForge record);
alpaca and sharegpt (LLaMA-Factory layouts [P1]).
"""

from __future__ import annotations

from typing import Any

from src.config import RECORD_FORMATS, TARGET_PROVIDERS
from src.errors import ConfigError
from src.models import Example, Turn

NATIVE = {provider: provider for provider in TARGET_PROVIDERS}  # each target's own format
FORMATS = RECORD_FORMATS
SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "system": "system"}


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
    """<s>[INST] q1 [/INST] a1</s>[INST] q2 [/INST] — the system prompt leads the first question."""
    text = "<s>"
    for i, (question, answer) in enumerate(pairs):
        if i == 0 and example.system:
            question = f"{example.system}\n\n{question}"
        text += f"[INST] {question} [/INST]"
        if i < len(pairs) - 1:
            text += f" {answer}</s>"
    return text


def _mistral_instruct(example: Example) -> dict:
    pairs = _pairs(example)
    return {"instruction": _mistral_prompt(example, pairs), "input": example.context,
            "output": pairs[-1][1], "context_source": example.source_file,
            "question_type": example.question_type, "persona": example.persona,
            "domain_entity": getattr(example, "domain_entity", "") or "",
            "topic_keywords": list(example.topic_keywords)}


def _alpaca(example: Example) -> dict:
    pairs = _pairs(example)
    record: dict[str, Any] = {"instruction": pairs[-1][0], "input": example.context,
                              "output": pairs[-1][1]}
    if example.system:
        record["system"] = example.system
    if len(pairs) > 1:
        record["history"] = [[q, a] for q, a in pairs[:-1]]
    return record


def _sharegpt(example: Example) -> dict:
    record: dict[str, Any] = {"conversations": [
        {"from": SHAREGPT_ROLES[t.role], "value": t.content} for t in merged_turns(example.turns)]}
    if example.system:
        record["system"] = example.system
    return record


_WRITERS = {"openai": _chat, "mistral": _chat, "llama": _chat, "anthropic": _anthropic,
            "google": _google, "mistral_instruct": _mistral_instruct, "alpaca": _alpaca,
            "sharegpt": _sharegpt}


def format_example(example: Example, fmt: str) -> dict:
    """One JSONL record for `fmt` (a provider name or mistral_instruct | alpaca | sharegpt)."""
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
    if "instruction" in record:
        text = record.get("instruction")
        return "mistral_instruct" if isinstance(text, str) and "[INST]" in text else "alpaca"
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
