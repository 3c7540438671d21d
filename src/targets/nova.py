"""Amazon Bedrock Nova fine-tuning records (`bedrock-conversation-2024`): the checks of one line.

Sources [N1] (the Nova user guide's data-preparation page) and [N2] (AWS's own dataset validator,
aws-samples/amazon-bedrock-samples nova_ft_dataset_validator.py @ 7a8cfea5): roles user/assistant
only, strictly alternating from user to a final assistant turn, content as a list of blocks, no
empty text, no image or video in assistant turns (and none at all for Nova Micro), and reserved
strings anywhere in any text block fail the job. Nova 2.0 SFT accepts no tools [N3].
"""

from __future__ import annotations

from typing import Any

# [N2] INVALID_TOKENS_TEXT (case-sensitive substrings of every text block; [N1] lists the first ones)
RESERVED = ("System:", "SYSTEM:", "User:", "USER:", "Bot:", "BOT:", "Assistant:", "ASSISTANT:",
            "Thought:", "[EOS]", "<image>", "<video>")
TOP_KEYS = frozenset({"schemaVersion", "system", "messages"})
BLOCK_KINDS = ("text", "image", "video", "reasoningContent")
TOOL_KEYS = ("toolConfig", "tools", "toolUse", "toolResult")
MAX_IMAGES = 10  # per sample [N1][N2]

Problem = tuple[str, str, str]  # (severity, rule, message)


def reserved_in(text: str) -> list[str]:
    """The reserved strings found in a text block."""
    return [word for word in RESERVED if word in text]


def _text(where: str, text: Any, out: list[Problem]) -> None:
    if not isinstance(text, str) or not text.strip():
        out.append(("error", "empty_content", f"{where}: empty `text`: fill it in or drop the block."))
        return
    found = reserved_in(text)
    if found:
        out.append(("error", "reserved", f"{where}: contains {', '.join(found)}, reserved by Nova: "
                    "a training job with it fails [N1][N2]. Reword it (e.g. drop 'User:' turn "
                    "prefixes left in the text)."))


def _blocks(where: str, role: Any, content: Any, model: str, out: list[Problem]) -> None:
    if not isinstance(content, list) or not content:
        out.append(("error", "schema", f"{where}: `content` must be a non-empty list of blocks such "
                    "as {\"text\": ...} [N1]."))
        return
    images = 0
    for j, block in enumerate(content, 1):
        kinds = [k for k in BLOCK_KINDS if isinstance(block, dict) and k in block]
        tools = [k for k in TOOL_KEYS if isinstance(block, dict) and k in block]
        if tools and "nova-2" in model:
            out.append(("error", "tools", f"{where}, block {j}: {tools[0]} blocks are not accepted "
                        f"for fine-tuning {model} [N3]: remove tool use from the dataset."))
        elif tools:
            continue  # Nova 1 tool-use fine-tuning: not checked here
        elif len(kinds) != 1:
            out.append(("error", "schema", f"{where}, block {j}: each block holds exactly one of "
                        f"{', '.join(BLOCK_KINDS)}."))
        elif kinds == ["text"]:
            _text(f"{where}, block {j}", block["text"], out)
        elif kinds[0] in ("image", "video") and (role == "assistant" or "micro" in model):
            out.append(("error", "schema", f"{where}, block {j}: {kinds[0]} is not allowed here "
                        "(never in assistant turns; Nova Micro takes text only) [N1]."))
        images += kinds == ["image"]
    if images > MAX_IMAGES:
        out.append(("error", "schema", f"{where}: {images} images; at most {MAX_IMAGES} [N1]."))


def _order(line: int, roles: list[Any], out: list[Problem]) -> None:
    if len(roles) < 2:
        out.append(("error", "schema", f"line {line}: `messages` needs a user and an assistant turn."))
        return
    for i, role in enumerate(roles):
        expected = "user" if i % 2 == 0 else "assistant"
        if role not in ("user", "assistant"):
            out.append(("error", "role", f"line {line}, message {i + 1}: role {role!r}; only "
                        "'user' and 'assistant' (the system prompt goes in `system`) [N1]."))
            return
        if role != expected:
            out.append(("error", "order", f"line {line}, message {i + 1}: expected {expected!r}: "
                        "turns alternate user/assistant, starting with user [N1][N2]."))
            return
    if roles[-1] != "assistant":
        out.append(("error", "order", f"line {line}: the last turn must be 'assistant' [N1]."))


def check(line: int, record: dict, model: str) -> list[Problem]:
    """Every problem of one Nova record (model: the catalog id, for the Micro and 2.0 rules)."""
    out: list[Problem] = []
    for key in sorted(record.keys() - TOP_KEYS):
        if key in TOOL_KEYS and "nova-2" in model:
            out.append(("error", "tools", f"line {line}: {key!r}: {model} accepts no tools in "
                        "fine-tuning data [N3]: remove it."))
        else:
            out.append(("warning", "unknown_key", f"line {line}: key {key!r} is not part of "
                        "bedrock-conversation-2024 (whether Bedrock rejects extra keys is "
                        "UNCONFIRMED): remove it."))
    if not isinstance(record.get("schemaVersion"), str):
        out.append(("error", "schema", f"line {line}: `schemaVersion` must be a string such as "
                    "\"bedrock-conversation-2024\" [N1]."))
    system = record.get("system")
    if system is not None and not isinstance(system, list):
        out.append(("error", "schema", f"line {line}: `system` must be a list of {{\"text\": ...}}."))
    for i, block in enumerate(system if isinstance(system, list) else [], 1):
        _text(f"line {line}, system block {i}", block.get("text") if isinstance(block, dict)
              else None, out)
    messages = record.get("messages")
    if not isinstance(messages, list):
        out.append(("error", "schema", f"line {line}: missing `messages` (a list of {{role, "
                    "content}}) [N1]: convert the line to the Nova format."))
        return out
    for i, m in enumerate(messages, 1):
        if not isinstance(m, dict):
            out.append(("error", "schema", f"line {line}, message {i} is not an object."))
            continue
        _blocks(f"line {line}, message {i}", m.get("role"), m.get("content"), model, out)
    _order(line, [m.get("role") for m in messages if isinstance(m, dict)], out)
    return out
