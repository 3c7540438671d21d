"""Speaker transcripts kept multi-turn: 'NAME: text', 'NAME:' on its own line (plays), timestamped
lines ('00 00 00 08  CC  text', '[10:02] Ana: text') and VTT cues ('0:0:0.0 --> 0:0:1.5' + name + text).

Roles: a transcript with more than two speakers is cut into stretches where only two people talk
(a third voice starts a new stretch), so every conversation is a dialogue between two speakers. In
each stretch the speaker named like an asker (User, Human, Customer, Interviewer, Caller, ...) is the
user; else the one not named like an answerer (Assistant, AI, Agent, Candidate, Guest, ...) who asks
the most questions (ties: who speaks first). The other speaker is the assistant. Consecutive turns of
one speaker are merged (joined by a line break); a conversation starts with the user's turn and ends
with the assistant's, and one longer than MAX_TURNS turns is split.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from src.detect.lines import Found, Line, heading_text, section_heading

_NAME = r"(?:[A-Z][\w.'’-]*|[a-z]+)(?:\s+(?:[A-Z][\w.'’-]*|\d{1,2}|of|de|van|von))*"
_DATE = r"(?:\d{4}-\d{2}-\d{2}[ T]|\d{1,2}[./]\d{1,2}[./]\d{2,4},?\s+)"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:\s?[AaPp]\.?[Mm]\.?)?"
_STAMP = rf"[\[(]?{_DATE}?{_TIME}[\])]?\s*(?:[-–|]\s*)?"
# After a timestamp a chat app shows any display name: 'Support | Lucia', 'Jonas (Nordlicht)'.
_SHOWN_NAME = r"[^\s:\[\]<>][^:\n\[\]<>]{0,39}?"
_BOLD = r"(?:\*\*|__)?"  # Markdown transcripts set names in bold: '**CARLA:**', '**Carla**:'
NAMED = re.compile(rf"^(?:\d{{1,2}}\s+)?{_BOLD}(?P<name>{_NAME}){_BOLD}\s?:{_BOLD}(?:\s+(?=\S)|$)")
STAMPED = re.compile(rf"^(?P<stamp>{_STAMP})(?P<name>{_SHOWN_NAME})\s?:(?:\s+(?=\S)|$)")
NAME_STAMPED = re.compile(rf"^(?P<name>{_NAME})\s*[\[(](?P<stamp>{_DATE}?{_TIME})[\])]\s*:?(?:\s+(?=\S)|$)")
NAME_TIME_LINE = re.compile(rf"^(?P<name>{_SHOWN_NAME})\s+[\[(]?(?P<stamp>{_DATE}?{_TIME})[\])]?$")
SPACELOG = re.compile(r"^-?\d{2}(?:\s\d{2}){3}\s+(?P<name>[A-Za-z][\w?]*)\s+(?=\S)")
VTT_CUE = re.compile(r"^(?:\d+\s+)?\d{1,2}:\d{1,2}:\d{1,2}(?:[.,]\d+)?\s+-->\s+\d{1,2}:\d{1,2}:\d{1,2}")
VTT_VOICE = re.compile(r"^<v\s+(?P<name>[^>]{1,40})>")
BARE_NAME = re.compile(r"^[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}$")

ASKERS = {"user", "human", "customer", "client", "interviewer", "student", "patient", "caller",
          "visitor", "questioner", "me", "reporter", "journalist", "moderator", "learner",
          "buyer", "guest user", "applicant", "parent", "member", "employee", "prompter"}
ANSWERERS = {"assistant", "ai", "bot", "chatbot", "agent", "support", "candidate", "interviewee",
             "teacher", "tutor", "doctor", "expert", "representative", "rep", "advisor", "adviser",
             "gpt", "chatgpt", "claude", "model", "helpdesk", "staff", "librarian", "operator",
             "counselor", "counsellor", "nurse", "lawyer", "pharmacist", "guest", "seller", "hr",
             "instructor", "professor", "officer", "clerk", "system"}
# Field labels that look like "Name: value" but are not speakers.
LABELS = {"note", "notes", "warning", "tip", "tips", "example", "examples", "date", "time", "from",
          "to", "subject", "cc", "bcc", "re", "source", "sources", "step", "ingredients", "method",
          "price", "total", "address", "phone", "email", "tel", "fax", "url", "location", "summary",
          "update", "edit", "ps", "nb", "important", "caution", "disclaimer", "objective", "goal",
          "result", "results", "reference", "references", "see", "figure", "table", "title",
          "author", "status", "version", "category", "tags", "name", "age", "role", "type", "size",
          "weight", "height", "color", "colour", "prep time", "cook time", "serves", "yield",
          "appearances", "present", "keywords", "abstract", "case", "held", "court", "docket",
          "q", "a", "question", "answer", "ques", "ans", "frage", "antwort", "pregunta",
          "respuesta", "http", "https", "mailto", "input", "output", "returns", "parameters",
          "args", "raises", "usage", "default", "description", "speakers", "attendees", "agenda",
          "via", "web", "hours", "open", "closed", "monday", "tuesday", "wednesday",
          "thursday", "friday", "saturday", "sunday", "todo", "fixme", "bug", "fix", "feature"}
# 'INFO: backup started' after a timestamp is a log line, not a speaker.
LOG_LEVELS = {"info", "warn", "warning", "error", "err", "debug", "trace", "fatal", "critical",
              "notice", "severe", "fine", "alert", "emerg", "emergency", "verbose", "ok", "fail"}
# Backchannel that carries nothing: a turn made only of these is dropped ('OK. Yeah.', 'Umm.').
FILLER = {"ok", "okay", "k", "yeah", "yea", "yup", "uh", "uhh", "um", "umm", "er", "erm", "eh",
          "mm", "mmm", "hm", "hmm", "mhm", "mm-hm", "mm-hmm", "uh-huh", "uh-hu", "right", "ha",
          "hah", "haha", "ah", "aha", "oh", "alright", "gotcha", "i see", "see", "i"}
MIN_TIMED_TURNS = 6  # a timestamped exchange without any '?' needs this many turns
MAX_TURNS = 20  # longer transcripts are split into conversations of at most this many turns
MAX_NAME_CHARS = 32


@dataclass
class Utterance:
    speaker: str
    segments: list[tuple[int, int]] = field(default_factory=list)
    index: int = 0  # line index where the turn starts
    timed: bool = False


def _speaker(line: Line, after_cue: bool) -> tuple[str, int, bool] | None:
    """(speaker, offset where the words start, timed) when the line opens a turn."""
    if line.code or heading_text(line):
        return None
    for pattern, timed in ((SPACELOG, True), (VTT_VOICE, True), (STAMPED, True),
                           (NAME_STAMPED, True), (NAME_TIME_LINE, True), (NAMED, False)):
        match = pattern.match(line.text)
        if match:
            name = match.group("name").strip()
            if _plausible(name, timed):
                return name, match.end(), timed
            return None
    if after_cue and BARE_NAME.match(line.text) and len(line.text) <= MAX_NAME_CHARS:
        return line.text, len(line.text), True  # VTT: the name is a line of its own
    return None


def _plausible(name: str, timed: bool) -> bool:
    """A timestamp makes any short name a speaker ('CC'), except a log level; without one, field
    labels are not."""
    lowered = name.lower()
    if len(name) > MAX_NAME_CHARS or name.isdigit() or lowered in LOG_LEVELS:
        return False
    return timed or lowered not in LABELS


def _utterances(lines: list[Line]) -> list[list[Utterance]]:
    """Runs of consecutive turns; a block that neither opens nor continues a turn ends a run."""
    runs: list[list[Utterance]] = [[]]
    after_cue = False
    text_led: set[int] = set()  # blocks that open with prose ("Interview notes ...")
    for i, line in enumerate(lines):
        if VTT_CUE.match(line.text):
            after_cue = True
            continue
        found = _speaker(line, after_cue)
        after_cue = False
        if line.first and not found:
            text_led.add(line.block)
        current = runs[-1][-1] if runs[-1] else None
        if found:
            name, offset, timed = found
            segment = [(line.start + offset, line.end)] if offset < len(line.text) else []
            runs[-1].append(Utterance(name, segment, i, timed))
        elif current and (line.block == lines[current.index].block or not current.segments
                          or line.kind == "list_item" or _carried_over(lines, i, current)):
            _extend(current, line)
        elif runs[-1]:
            runs.append([])
    runs = [[u for u in run if u.segments] for run in runs]  # a name with no words is no turn
    return [_drop_header(run, lines, text_led) for run in runs if run]


def _carried_over(lines: list[Line], i: int, turn: Utterance) -> bool:
    """The first line of a new page that goes on with the turn of the page before (PDF)."""
    prev = lines[i - 1]
    return (lines[i].first and lines[i].location != prev.location and turn.segments != []
            and turn.segments[-1][1] == prev.end and not prev.text.endswith((".", "!", "?")))


def _drop_header(run: list[Utterance], lines: list[Line], text_led: set[int]) -> list[Utterance]:
    """'Interviewer: Anna Kowalski' under a prose title, or an 'Episode 42: Title' line that opens
    a dialogue between two other people, is a header, not the first turn."""
    block = lines[run[0].index].block
    if block in text_led and len({u.speaker for u in run if lines[u.index].block == block}) < 2:
        run = [u for u in run if lines[u.index].block != block]
    speakers = Counter(u.speaker for u in run)
    if len(speakers) > 2 and speakers[run[0].speaker] == 1:
        run = run[1:]
    return run


def is_filler(text: str) -> bool:
    """A turn that only acknowledges: 'OK. Yeah.', 'Umm.', 'Mm-hm.', 'Right.'"""
    words = re.findall(r"[\w'’-]+", text.lower())
    return bool(words) and all(w.strip("-") in FILLER for w in words)


def _drop_filler(run: list[Utterance], text: str) -> list[Utterance]:
    return [u for u in run if not is_filler(" ".join(text[s:e] for s, e in u.segments))]


def _extend(turn: Utterance, line: Line) -> None:
    if turn.segments:
        turn.segments[-1] = (turn.segments[-1][0], line.end)
    else:
        turn.segments.append((line.start, line.end))


def _stretches(run: list[Utterance]) -> list[list[Utterance]]:
    """Split a run into maximal stretches in which only two speakers talk."""
    out: list[list[Utterance]] = [[]]
    pair: set[str] = set()
    for u in run:
        if u.speaker not in pair and len(pair) == 2:
            out.append([])
            pair = set()
        out[-1].append(u)
        pair.add(u.speaker)
    return out


def _role_words(name: str) -> set[str]:
    """The name and its words ('Support | Lucia' -> support, lucia), lower-cased."""
    lowered = name.lower()
    return {lowered} | set(re.findall(r"[^\W\d_]+", lowered))


def _user_of(stretch: list[Utterance], text: str) -> str:
    """The asker: a known asker role, else the non-answerer asking most (ties: who speaks first)."""
    names = list(dict.fromkeys(u.speaker for u in stretch))
    for name in names:
        if name.lower() in ASKERS:
            return name
    candidates = [n for n in names if not _role_words(n) & ANSWERERS] or names
    asks = Counter(u.speaker for u in stretch if any("?" in text[s:e] for s, e in u.segments))
    return max(candidates, key=lambda name: (asks[name], -names.index(name)))


def _valid(run: list[Utterance], text: str) -> bool:
    """Enough evidence that this is dialogue and not a list of 'Label: value' lines or a log."""
    speakers = {u.speaker for u in run}
    if len(speakers) < 2:
        return False
    if all(s.lower() in ASKERS | ANSWERERS for s in speakers):
        return True
    asked = any("?" in text[s:e] for u in run for s, e in u.segments)
    if any(u.timed for u in run):
        # People in a chat speak more than once; a timed agenda ('09:00 Welcome: ...') has a new
        # "speaker" on every line.
        return (asked or len(run) >= MIN_TIMED_TURNS) and len(speakers) <= max(2, len(run) // 2)
    changes = sum(a.speaker != b.speaker for a, b in zip(run, run[1:]))
    return changes >= 2 and asked


def _conversations(run: list[Utterance], text: str,
                   asker: str) -> list[list[tuple[str, Utterance]]]:
    """Map to roles (the document's asker is the user wherever they speak), merge same-side
    neighbours, trim to user-first/assistant-last, split long ones."""
    user = asker if any(u.speaker == asker for u in run) else _user_of(run, text)
    merged: list[tuple[str, list[Utterance]]] = []
    for u in run:
        role = "user" if u.speaker == user else "assistant"
        if merged and merged[-1][0] == role:
            merged[-1][1].append(u)
        else:
            merged.append((role, [u]))
    while merged and merged[0][0] != "user":
        merged.pop(0)
    while merged and merged[-1][0] != "assistant":
        merged.pop()
    pieces = [merged[n:n + MAX_TURNS] for n in range(0, len(merged), MAX_TURNS)]
    return [_flatten(piece) for piece in pieces if len(piece) >= 2]


def _flatten(piece: list[tuple[str, list[Utterance]]]) -> list[tuple[str, Utterance]]:
    out = []
    for role, group in piece:
        combined = Utterance(group[0].speaker, [seg for u in group for seg in u.segments],
                             group[0].index, group[0].timed)
        out.append((role, combined))
    return out


def detect_transcripts(text: str, lines: list[Line]) -> list[Found]:
    """Speaker transcripts as multi-turn conversations (see the module docstring for roles)."""
    found = []
    runs = [_drop_filler(run, text) for run in _utterances(lines) if _valid(run, text)]
    everyone = [u for run in runs for u in run]
    asker = _user_of(everyone, text) if everyone else ""
    stretches = [part for run in runs for part in _stretches(run)]
    for stretch in stretches:
        for conversation in _conversations(stretch, text, asker):
            first = lines[conversation[0][1].index]
            end = conversation[-1][1].segments[-1][1]
            turns = [(role, u.segments) for role, u in conversation]
            found.append(Found(turns, (first.start, end), first.location, "transcript",
                               title=section_heading(lines, conversation[0][1].index)))
    return found
