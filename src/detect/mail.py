"""E-mail threads exported as text: each message opens with header lines (From/To/Subject/Date or
Sent, in a few languages); the customer's message and the replies to it become one conversation.

The sender of the first message is the user throughout, everyone else the assistant. Quoted text
('> ...' lines, the 'On ... wrote:' line before them, an '-----Original Message-----' or forwarded
message and everything after it) and the signature after a '-- ' line are left out, so no text is
duplicated into the turns. Messages of one side in a row are merged; a reply that only thanks or
acknowledges ('Thanks, noted.') is no answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from src.detect.lines import Found, Line

HEADER = re.compile(
    r"^(?P<key>from|to|cc|bcc|subject|date|sent|reply-to|von|an|betreff|datum|gesendet|de|à|a|"
    r"objet|envoyé|para|asunto|enviado|fecha)\s?:\s*(?P<value>.*)$", re.IGNORECASE)
SENDER_KEYS = {"from", "von", "de"}
OTHER_KEYS = {"to", "subject", "date", "sent", "an", "betreff", "datum", "gesendet", "à", "a",
              "objet", "envoyé", "para", "asunto", "enviado", "fecha"}
QUOTE = re.compile(r"^>")
ATTRIBUTION = re.compile(r"^(on|am|le|el)\b.{4,300}\b(wrote|schrieb|a écrit|escribió)\s?:$",
                         re.IGNORECASE)
ATTRIBUTION_START = re.compile(r"^(on|am|le|el)\s.{4,200}$", re.IGNORECASE)
ATTRIBUTION_END = re.compile(r"\b(wrote|schrieb|a écrit|escribió)\s?:$", re.IGNORECASE)
QUOTED_MESSAGE = re.compile(r"^(-{2,}\s*(original message|forwarded message|weitergeleitete "
                            r"nachricht|ursprüngliche nachricht|message d'origine|mensaje "
                            r"original)\s*-{2,}|_{10,})$", re.IGNORECASE)
SIGNATURE = re.compile(r"^--\s?$")
RULE = re.compile(r"^[-=_*~]{3,}$")  # a line between messages
ADDRESS = re.compile(r"<([^<>@\s]+@[^<>\s]+)>|([^<>@\s]+@[^<>\s]+)")
# Subjects of automatic replies (out-of-office notices answer nothing).
AUTO_SUBJECT = re.compile(r"^(automatic reply|auto(matic)?[- ]?re(ply|sponse)|out of (the )?office|"
                          r"abwesenheitsnotiz|automatische antwort|réponse automatique|"
                          r"respuesta automática)\b", re.IGNORECASE)
MIN_REPLY_WORDS = 4  # a shorter reply ('Thanks, noted.') answers nothing


@dataclass
class Message:
    sender: str
    start: int  # line index of its first header line
    segments: list[tuple[int, int]] = field(default_factory=list)
    last: int = -2  # index of the last line added
    automatic: bool = False  # an out-of-office or other automatic reply


def _header_run(lines: list[Line], i: int) -> int:
    """Index after the header lines starting at i, or i when they are not a message header."""
    k, keys = i, set()
    while k < len(lines) and (match := HEADER.match(lines[k].text)):
        keys.add(match.group("key").lower())
        k += 1
    sender = keys & SENDER_KEYS
    return k if sender and len(keys & OTHER_KEYS) >= 2 and k - i >= 3 else i


def _sender(lines: list[Line], start: int, end: int) -> str:
    for line in lines[start:end]:
        match = HEADER.match(line.text)
        if match and match.group("key").lower() in SENDER_KEYS:
            value = match.group("value")
            address = ADDRESS.search(value)
            return (address.group(1) or address.group(2)).lower() if address else value.lower()
    return ""


def _automatic(lines: list[Line], start: int, end: int) -> bool:
    for line in lines[start:end]:
        match = HEADER.match(line.text)
        if match and match.group("key").lower() in ("subject", "betreff", "objet", "asunto") \
                and AUTO_SUBJECT.match(match.group("value").strip()):
            return True
    return False


def _messages(lines: list[Line]) -> list[Message]:
    """The thread's messages with their own (unquoted) lines as segments."""
    messages: list[Message] = []
    i = 0
    while i < len(lines):
        end = _header_run(lines, i)
        if end == i:
            i += 1
            continue
        message = Message(_sender(lines, i, end), i, automatic=_automatic(lines, i, end))
        i = _body(lines, end, message)
        messages.append(message)
    return messages


def _body(lines: list[Line], i: int, message: Message) -> int:
    """Collect a message's own lines from i; returns where the next message starts."""
    own = True  # false after a signature or a quoted message began
    while i < len(lines) and _header_run(lines, i) == i:
        text = lines[i].text
        if QUOTED_MESSAGE.match(text):
            own = False
            quoted_headers = _header_run(lines, i + 1)
            if quoted_headers > i + 1:  # the quoted message's own headers: skip it whole
                return _next_message(lines, quoted_headers)
        elif SIGNATURE.match(text):
            own = False
        elif own and not RULE.match(text) and not _is_quote(lines, i):
            _extend(message, lines, i)
        i += 1
    return i


def _next_message(lines: list[Line], i: int) -> int:
    while i < len(lines) and _header_run(lines, i) == i:
        i += 1
    return i


def _is_quote(lines: list[Line], i: int) -> bool:
    text = lines[i].text
    if QUOTE.match(text) or ATTRIBUTION.match(text):
        return True
    nxt = lines[i + 1].text if i + 1 < len(lines) else ""
    prev = lines[i - 1].text if i else ""
    return (bool(ATTRIBUTION_START.match(text)) and bool(ATTRIBUTION_END.search(nxt))) or \
        (bool(ATTRIBUTION_END.search(text)) and bool(ATTRIBUTION_START.match(prev)))


def _extend(message: Message, lines: list[Line], i: int) -> None:
    """Add line i to the message: to its last segment when no left-out line came between."""
    if message.segments and message.last == i - 1:
        message.segments[-1] = (message.segments[-1][0], lines[i].end)
    else:
        message.segments.append((lines[i].start, lines[i].end))
    message.last = i


def _words(text: str, segments: list[tuple[int, int]]) -> int:
    return sum(len(text[s:e].split()) for s, e in segments)


def _turns(text: str, messages: list[Message]) -> list[tuple[str, Message]]:
    """Roles by sender (the first message's sender is the user), one side's messages merged,
    bare acknowledgements dropped, from the user's first message to the last reply."""
    user = messages[0].sender
    turns: list[tuple[str, Message]] = []
    for message in messages:
        role = "user" if message.sender == user else "assistant"
        if not message.segments or message.automatic or (role == "assistant"
                                    and _words(text, message.segments) < MIN_REPLY_WORDS):
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].segments.extend(message.segments)
        else:
            turns.append((role, Message(message.sender, message.start, list(message.segments))))
    while turns and turns[-1][0] != "assistant":
        turns.pop()
    return turns if len(turns) >= 2 and turns[0][0] == "user" else []


def detect_mail(text: str, lines: list[Line]) -> list[Found]:
    """An e-mail thread (two messages or more) as one conversation."""
    messages = _messages(lines)
    if len(messages) < 2 or len({m.sender for m in messages}) < 2:
        return []
    turns = _turns(text, messages)
    if not turns:
        return []
    first = lines[turns[0][1].start]
    span = (first.start, turns[-1][1].segments[-1][1])
    return [Found([(role, m.segments) for role, m in turns], span, first.location, "email")]
