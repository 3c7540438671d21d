"""Check a dataset or any JSONL file against a target's rules (provider_specs.md checklists).

Every problem is an Issue(line, rule, message); errors make the file invalid, warnings do not.
Rules: json, encoding, schema, unknown_key, role, order, empty_content, no_assistant, weight,
reserved, tools, answer_in_prompt, control_tokens, tokens, truncation_risk, total_tokens,
min_examples, max_examples, file_size, lifecycle.

`structure_only` checks the shape of open-trainer records (trl, messages, alpaca, ...) without a
provider's token and count limits: open trainers have none of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from src.config import OPEN_FORMATS
from src.errors import ConfigError, InputFileError
from src.targets import catalog, formatter, nova, tokens
from src.targets.report import MAX_LISTED, Issue, ValidationReport
from src.targets.rules import ANSWER_MIN_WORDS, MISTRAL_ORDER, PAIR_KEYS, RULES, ChatRules

__all__ = ["MAX_LISTED", "ChatRules", "Issue", "ValidationReport", "validate_file",
           "validate_records"]
TRUNCATION_RISK = 0.9  # warn when an example uses more than this share of the limit
OPENAI_UPLOADS_MAX = 8 * catalog.GB  # Uploads API (multipart) limit [O6][O7]


class _Checker:
    """Applies one target's rules record by record, accumulating into a ValidationReport."""

    def __init__(self, report: ValidationReport, spec: catalog.ModelSpec):
        self.r, self.spec, self.fmt = report, spec, report.format

    def err(self, line: int, rule: str, message: str) -> None:
        self.r.add("error", line, rule, message)

    def warn(self, line: int, rule: str, message: str) -> None:
        self.r.add("warning", line, rule, message)

    def record(self, line: int, rec: Any, known_tokens: int | None = None) -> None:
        """Check one parsed line: structure for its format, then its tokens against the limit."""
        self.r.examples += 1
        if not isinstance(rec, dict):
            self.err(line, "schema", f"line {line} is a JSON {type(rec).__name__}, not an object: "
                     f"write one {self.fmt} record object per line.")
            return
        if self.fmt in RULES:
            self.chat(line, rec, RULES[self.fmt])
        elif self.fmt == "google":
            self.google(line, rec)
        elif self.fmt == "amazon":
            for severity, rule, message in nova.check(line, rec, self.spec.model):
                self.r.add(severity, line, rule, message)
        elif self.fmt == "trl":
            self.trl(line, rec)
        else:
            self.pairs(line, rec)
        if not self.r.structure_only:
            self.tokens(line, rec, known_tokens)

    def trl(self, line: int, rec: dict) -> None:
        """TRL conversational prompt-completion: a prompt ending with user, one assistant reply."""
        self.keys(line, rec, frozenset({"prompt", "completion", "tools"}))
        prompt, completion = rec.get("prompt"), rec.get("completion")
        if not isinstance(prompt, list) or not isinstance(completion, list) or not prompt:
            self.err(line, "schema", f"line {line}: `prompt` and `completion` must be lists of "
                     "{role, content} messages (TRL conversational prompt-completion).")
            return
        self.chat(line, {"messages": prompt + completion}, RULES["messages"])
        if [m.get("role") for m in completion if isinstance(m, dict)] != ["assistant"]:
            self.err(line, "order", f"line {line}: `completion` must hold exactly one assistant "
                     "message (the answer to learn).")

    def keys(self, line: int, rec: dict, allowed: frozenset[str], severity: str = "error") -> None:
        for key in sorted(rec.keys() - allowed):
            self.r.add(severity, line, "unknown_key",
                       f"line {line}: unknown key {key!r} in this {self.fmt} record: remove it "
                       f"(allowed: {', '.join(sorted(allowed))}).")

    def chat(self, line: int, rec: dict, rules: ChatRules) -> None:
        self.keys(line, rec, rules.top_keys)
        messages = rec.get(rules.list_key)
        if not isinstance(messages, list) or len(messages) < rules.min_messages:
            self.err(line, "schema", f"line {line}: `{rules.list_key}` must be a list of at least "
                     f"{rules.min_messages} message(s); add the conversation under it.")
            return
        if self.fmt == "anthropic" and "system" in rec and not isinstance(rec["system"], str):
            self.err(line, "schema", f"line {line}: `system` must be a string.")
        weight = rec.get("weight", 0)
        if self.fmt == "together" and (type(weight) not in (int, float) or weight < 0):
            self.err(line, "weight", f"line {line}: the top-level `weight` must be a number >= 0 "
                     f"(a loss multiplier for the whole example) [T4], not {weight!r}.")
        for i, m in enumerate(messages, 1):
            self.message(line, i, m, rules)
        roles = [m.get(rules.role_key) for m in messages if isinstance(m, dict)]
        self.order(line, roles, rules)
        self.assistant_present(line, messages, rules)

    def message(self, line: int, i: int, m: Any, rules: ChatRules) -> None:
        if not isinstance(m, dict):
            self.err(line, "schema", f"line {line}, message {i} is not an object with "
                     f"`{rules.role_key}` and `{rules.content_key}`.")
            return
        if not m.keys() <= rules.message_keys:
            self.keys(line, m, rules.message_keys)
        role = m.get(rules.role_key)
        if role not in rules.roles:
            self.err(line, "role", f"line {line}, message {i}: role {role!r} is not allowed for "
                     f"{self.fmt}; use one of {', '.join(sorted(rules.roles))}.")
        content = m.get(rules.content_key)
        plain = type(content) is str and content and not content.isspace()
        if not plain or "tool_calls" in m or "function_call" in m:  # the common case skips this
            self.content(line, f"line {line}, message {i}", role, m, rules)
        if "weight" in m:
            self.weight(line, f"line {line}, message {i}", role, m["weight"], rules)

    def content(self, line: int, where: str, role: Any, m: dict, rules: ChatRules) -> None:
        content = m.get(rules.content_key)
        calls = m.get("tool_calls") or m.get("function_call")
        if calls and self.fmt == "mistral" and content:
            self.err(line, "schema", f"{where}: an assistant message has `content` or "
                     "`tool_calls`, not both [M4]: split it into two messages.")
        elif not calls and (not isinstance(content, str) or not content.strip()) and \
                not (role == rules.user and isinstance(content, list) and self.fmt == "openai"):
            self.err(line, "empty_content", f"{where} ({role}): `{rules.content_key}` is empty or "
                     "not a string: fill it in or drop the message.")

    def weight(self, line: int, where: str, role: Any, weight: Any, rules: ChatRules) -> None:
        if not rules.weight or role != rules.assistant:
            self.err(line, "weight", f"{where}: `weight` is only allowed on assistant messages.")
        elif type(weight) is not int or weight not in (0, 1):
            self.err(line, "weight", f"{where}: `weight` must be the integer 0 or 1, not {weight!r}.")

    def order(self, line: int, roles: list[Any], rules: ChatRules) -> None:
        systems = [i for i, r in enumerate(roles) if r == "system"]
        if rules.max_system is not None and len(systems) > rules.max_system:
            self.err(line, "order", f"line {line}: {len(systems)} system messages; keep one.")
        if rules.system_only_first and any(i > 0 for i in systems):
            self.err(line, "order", f"line {line}: a system message may only come first.")
        body = [r for r in roles if r != "system"]
        if rules.first_role and body and body[0] not in rules.first_role:
            self.err(line, "order", f"line {line}: the conversation must start with "
                     f"{' or '.join(rules.first_role)} (after any system prompt), not {body[0]!r}.")
        if rules.last_role and roles and roles[-1] != rules.last_role:
            self.err(line, "order", f"line {line}: the last message must be {rules.last_role!r} "
                     f"(the answer to learn), not {roles[-1]!r}.")
        if rules.alternate and any(a == b for a, b in zip(body, body[1:])):
            self.err(line, "order", f"line {line}: two consecutive messages have the same role; "
                     "roles must alternate: merge them into one message.")
        if self.fmt == "mistral":
            for a, b in zip(roles, roles[1:]):
                if a in MISTRAL_ORDER and b not in MISTRAL_ORDER[a]:
                    self.err(line, "order", f"line {line}: {b!r} cannot follow {a!r} [M4].")

    def assistant_present(self, line: int, messages: list[Any], rules: ChatRules) -> None:
        trained = [m for m in messages if isinstance(m, dict) and m.get(rules.role_key) ==
                   rules.assistant and m.get("weight", 1) != 0]
        if not trained:
            self.err(line, "no_assistant", f"line {line}: no assistant message to train on (or all "
                     "have weight 0): add the answer as an assistant message.")

    def google(self, line: int, rec: dict) -> None:
        self.keys(line, rec, frozenset({"contents", "systemInstruction", "tools"}))
        system = rec.get("systemInstruction")
        if system is not None and (not isinstance(system, dict) or not self.parts(
                line, "systemInstruction", system.get("parts"), text_only=True)):
            self.err(line, "schema", f"line {line}: `systemInstruction` must be "
                     "{\"parts\": [{\"text\": ...}]} with text parts only [G2].")
        contents = rec.get("contents")
        if not isinstance(contents, list) or not contents:
            self.err(line, "schema", f"line {line}: missing required `contents` (a non-empty list "
                     "of {role, parts}) [G2]: convert the line to the Gemini format.")
            return
        roles = []
        for i, c in enumerate(contents, 1):
            role = c.get("role") if isinstance(c, dict) else None
            roles.append(role)
            if role not in ("user", "model"):
                self.err(line, "role", f"line {line}, content {i}: role {role!r} is not allowed; "
                         "use 'user' or 'model' (system text goes in `systemInstruction`).")
            if isinstance(c, dict):
                self.keys(line, c, frozenset({"role", "parts"}))
                self.parts(line, f"content {i}", c.get("parts"), text_only=False)
        self.google_order(line, roles)

    def parts(self, line: int, where: str, parts: Any, *, text_only: bool) -> bool:
        if not isinstance(parts, list) or not parts:
            self.err(line, "schema", f"line {line}, {where}: `parts` must be a non-empty list.")
            return False
        for p in parts:
            kinds = [k for k in ("text", "fileData") if isinstance(p, dict) and k in p]
            if len(kinds) != 1 or (text_only and kinds != ["text"]):
                self.err(line, "schema", f"line {line}, {where}: each part holds exactly one of "
                         "`text` / `fileData`" + (" (text only here)" if text_only else "") + ".")
            elif kinds == ["text"] and (not isinstance(p["text"], str) or not p["text"].strip()):
                self.err(line, "empty_content", f"line {line}, {where}: empty `text` part: fill "
                         "it in or drop the part.")
        return True

    def google_order(self, line: int, roles: list[Any]) -> None:
        if "model" not in roles:
            self.err(line, "no_assistant", f"line {line}: no `model` turn to train on: add the "
                     "answer as a {\"role\": \"model\"} content.")
        elif roles[-1] != "model" or any(a == b for a, b in zip(roles, roles[1:])):
            self.warn(line, "order", f"line {line}: turns should alternate user/model and end "
                      "with model (common practice; not stated in Google's docs).")

    def pairs(self, line: int, rec: dict) -> None:
        self.keys(line, rec, PAIR_KEYS[self.fmt],
                  severity="warning" if self.fmt == "mistral_instruct" else "error")
        for key in ("instruction", "output"):
            value = rec.get(key)
            if not isinstance(value, str) or not value.strip():
                self.err(line, "empty_content", f"line {line}: `{key}` must be a non-empty string.")
        if not isinstance(rec.get("input", ""), str):
            self.err(line, "schema", f"line {line}: `input` must be a string (may be empty).")
        instruction = rec.get("instruction")
        if isinstance(instruction, str) and "[INST]" in instruction:
            self.control_tokens(line, instruction)
        self.answer_in_prompt(line, rec)
        if self.fmt == "alpaca" and "history" not in rec:
            self.warn(line, "schema", f"line {line}: no `history` field: a LLaMA-Factory description "
                      "that declares the column fails with KeyError 'history'; write [] instead.")
        history = rec.get("history", [])
        if not isinstance(history, list) or not all(
                isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)
                for h in history):
            self.err(line, "schema", f"line {line}: `history` must be a list of "
                     "[question, answer] string pairs.")

    def control_tokens(self, line: int, instruction: str) -> None:
        if not (instruction.startswith("<s>[INST]") and instruction.rstrip().endswith("[/INST]")):
            self.err(line, "schema", f"line {line}: `instruction` holds [INST] but not as "
                     "'<s>[INST] question [/INST]' (Mistral instruct format).")
        elif not self.r.warning_counts["control_tokens"]:  # once per file: it is a choice
            self.warn(line, "control_tokens", f"line {line} (and maybe others): `instruction` holds "
                      "literal <s>[INST] ... [/INST]; a trainer that applies a chat template wraps "
                      "it a second time. Leave output.control_tokens off unless your trainer reads "
                      "raw text.")

    def answer_in_prompt(self, line: int, rec: dict) -> None:
        output = rec.get("output")
        prompt = " ".join(str(rec.get(k) or "") for k in ("system", "instruction", "input"))
        if isinstance(output, str) and len(output.split()) >= ANSWER_MIN_WORDS and \
                formatter.answer_in_prompt(output, prompt):
            self.warn(line, "answer_in_prompt", f"line {line}: the `output` appears word for word in "
                      "the prompt (instruction/input): a model trained on it learns to copy. Leave "
                      "`input` empty or cut the answer out of it.")

    def tokens(self, line: int, rec: dict, known: int | None = None) -> None:
        n = known if known else tokens.count_example_tokens(rec, self.r.provider, self.r.model)
        self.r.total_tokens += n
        self.r.max_example_tokens = max(self.r.max_example_tokens, n)
        limit = self.r.token_limit
        kind = "tokens" if self.r.exact else "estimated tokens"
        if n > limit:
            self.r.over_limit += 1
            truncate = self.spec.over_limit == "truncate"
            severity = "warning" if truncate or not self.r.exact else "error"
            fate = ("will be truncated (tokens cut from the end)" if truncate
                    else "may be rejected" if not self.r.exact else "will be rejected")
            self.r.add(severity, line, "tokens", f"line {line}: {n:,} {kind} > the {limit:,} "
                       f"limit of {self.spec.label}: it {fate}; shorten or split the example.")
        elif n > limit * TRUNCATION_RISK:
            self.warn(line, "truncation_risk", f"line {line}: {n:,} {kind}, within 10% of the "
                      f"{limit:,} limit: consider shortening it.")


def _choose_format(spec: catalog.ModelSpec, first: Any, fmt: str | None) -> str:
    """The given format, else the first record's format when the target reads it, else native."""
    if fmt and fmt != "native":
        if fmt not in formatter.FORMATS:
            raise ConfigError(f"Unknown format {fmt!r}: choose one of {', '.join(formatter.FORMATS)}.")
        return fmt
    native = formatter.native_format(spec.provider)
    if not isinstance(first, dict):
        return native
    found = formatter.detect_format(first)
    if spec.open_weight and found in OPEN_FORMATS:
        return found
    return native


def _new_report(spec: catalog.ModelSpec, provider: str, model: str, fmt: str,
                split: str, structure_only: bool = False) -> ValidationReport:
    return ValidationReport(
        provider=provider, model=model, format=fmt, split=split,
        tokenizer=tokens.tokenizer_name(provider, model),
        exact=tokens.is_exact(provider, model), token_limit=spec.max_tokens_per_example,
        structure_only=structure_only)


def _count_rules(checker: _Checker, split: str) -> None:
    r, spec = checker.r, checker.spec
    n = r.examples
    cap = spec.max_validation_examples if split == "validation" else spec.max_examples
    if spec.min_examples and split == "train" and n < spec.min_examples:
        checker.err(0, "min_examples", f"{n} examples; {spec.label} needs at least "
                    f"{spec.min_examples} [{spec.sources.get('min_examples', '')}]: add examples.")
    elif spec.recommended_examples and split == "train" and n < spec.recommended_examples:
        checker.warn(0, "min_examples", f"{n} examples; the provider recommends starting with "
                     f"~{spec.recommended_examples}.")
    if split == "validation" and not spec.validation_set and n:
        checker.warn(0, "validation_set", f"{spec.label} ignores a validation file "
                     f"[{spec.sources.get('min_examples', '')}]: put these examples in train, or "
                     "keep them for your own evaluation.")
    if cap is not None and n > cap:
        checker.err(0, "max_examples", f"{n:,} {split} examples; {spec.label} accepts at most "
                    f"{cap:,}: cut the file down (the size cap does this when generating).")
    if spec.max_training_tokens and r.total_tokens > spec.max_training_tokens:
        checker.err(0, "total_tokens", f"{r.total_tokens:,} training tokens > the "
                    f"{spec.max_training_tokens:,} allowed: remove examples.")
    if spec.training_price_per_1m is not None:
        r.training_cost_per_epoch_usd = round(r.total_tokens * spec.training_price_per_1m / 1e6, 4)


def _size_rule(checker: _Checker, size: int) -> None:
    spec = checker.spec
    checker.r.file_bytes = size
    limit = spec.max_file_bytes
    if spec.provider == "openai" and limit and limit < size <= OPENAI_UPLOADS_MAX:
        checker.warn(0, "file_size", f"{size:,} bytes is over the Files API's {limit:,}: upload "
                     "it with the Uploads API (up to 8 GB) [O6].")
    elif limit and size > (OPENAI_UPLOADS_MAX if spec.provider == "openai" else limit):
        checker.err(0, "file_size", f"{size:,} bytes is over {spec.label}'s file limit of "
                    f"{limit:,} bytes: split the dataset into several files.")


def _finish(checker: _Checker, split: str) -> ValidationReport:
    if checker.r.structure_only:
        return checker.r
    _count_rules(checker, split)
    warning = catalog.lifecycle_warning(checker.spec.provider, checker.spec.model)
    if warning:
        checker.warn(0, "lifecycle", warning)
    return checker.r


def validate_records(records: Iterable[dict], provider: str, model: str, *, split: str = "train",
                     fmt: str | None = None, structure_only: bool = False,
                     file_bytes: int | None = None,
                     token_counts: list[int] | None = None) -> ValidationReport:
    """Validate in-memory records (already parsed) for a target; line = record index + 1.

    `file_bytes`: the size of the file they were written to, checked against the target's cap.
    `token_counts`: each record's tokens when already counted with this target's tokenizer
    (stored samples carry them), so they are not counted twice.
    """
    spec = catalog.get_model(provider, model)
    checker: _Checker | None = None
    for i, rec in enumerate(records, 1):
        if checker is None:
            checker = _Checker(_new_report(spec, provider, model, _choose_format(spec, rec, fmt),
                                           split, structure_only), spec)
        checker.r.lines = i
        checker.record(i, rec, token_counts[i - 1] if token_counts else None)
    checker = checker or _Checker(_new_report(spec, provider, model, _choose_format(
        spec, None, fmt), split, structure_only), spec)
    if file_bytes is not None and not structure_only:
        _size_rule(checker, file_bytes)
    return _finish(checker, split)


def _parse_line(raw: bytes, line: int) -> tuple[Any, str | None, str | None]:
    """(record, rule, message): rule/message set when the line cannot be read as JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, "encoding", (f"line {line} is not UTF-8 ({exc.reason} at byte {exc.start}): "
                                  "save the file as UTF-8.")
    if not text.strip():
        return None, "json", f"line {line} is blank: remove empty lines (one JSON object per line)."
    try:
        return json.loads(text), None, None
    except json.JSONDecodeError as exc:
        return None, "json", (f"line {line} is not valid JSON ({exc.msg} at column {exc.colno}): "
                              "fix or remove it.")


def _first_record(path: Path) -> Any:
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            rec, rule, _ = _parse_line(raw, line_no)
            if rule is None:
                return rec
    return None


def validate_file(path: str | Path, provider: str, model: str, *, split: str = "train",
                  fmt: str | None = None) -> ValidationReport:
    """Stream a JSONL file and validate every line against the target."""
    path = Path(path)
    spec = catalog.get_model(provider, model)
    if not path.is_file():
        raise InputFileError(str(path), "no such file: check the path.")
    chosen = _choose_format(spec, _first_record(path), fmt)
    checker = _Checker(_new_report(spec, provider, model, chosen, split), spec)
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            checker.r.lines = line_no
            rec, rule, problem = _parse_line(raw.rstrip(b"\r\n"), line_no)
            if rule is None:
                checker.record(line_no, rec)
            else:
                checker.r.examples += 0 if "blank" in str(problem) else 1
                checker.err(line_no, rule, str(problem))
    _size_rule(checker, path.stat().st_size)
    return _finish(checker, split)
