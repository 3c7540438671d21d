"""Benchmark: validate a 100,000-example JSONL file; token counting vs the raw tokenizer.

Wall time is the figure; CPU time is in the notes, since other work on the machine inflates wall.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from src.models import Example, Turn
from src.targets import formatter, tokens
from src.targets.validator import validate_file

EXAMPLES = 100_000
COUNT_EXAMPLES = 20_000
AIM_VALIDATE_S = 5.0
AIM_RATIO = 1.5
TARGETS = [("openai", "gpt-4o-mini", "openai"), ("mistral", "open-mistral-7b", "mistral"),
           ("mistral", "open-mixtral-8x7b", "mistral"), ("mistral", "open-mistral-nemo", "mistral"),
           ("llama", "llama-3.1-8b", "llama")]  # (provider, model, file format)
WORDS = ("tuition scholarship visa hostel exam campus deadline transcript embassy rupee ₹1,50,000 "
         "semester faculty 2024 admission interview passport SSC/HSC GPA 5.00 fee form").split()


def make_file(path: Path, fmt: str, n: int = EXAMPLES, seed: int = 7) -> Path:
    """n Q&A examples (1-3 turns, ~60-word answers) written in `fmt`."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            turns = []
            for k in range(1 + i % 3):
                turns += [Turn("user", f"Question {i}.{k}: what about {rng.choice(WORDS)}?"),
                          Turn("assistant", " ".join(rng.choice(WORDS) for _ in range(60)))]
            example = Example(turns=turns, system="Answer from the admission guide.")
            handle.write(json.dumps(formatter.format_example(example, fmt), ensure_ascii=False) + "\n")
    return path


def _validate_row(path: Path, provider: str, model: str) -> dict:
    tokens.clear_word_caches()  # time a cold cache, as a fresh `validate` run has
    start, cpu = time.perf_counter(), time.process_time()
    report = validate_file(path, provider, model)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"name": f"validate 100k-example JSONL ({provider}/{model})", "value": round(seconds, 2),
            "unit": "s", "aim": f"<= {AIM_VALIDATE_S:g} s",
            "ok": seconds <= AIM_VALIDATE_S and report.ok and report.examples == EXAMPLES,
            "notes": f"{report.examples:,} examples, {report.total_tokens:,} tokens "
                     f"({'exact' if report.exact else 'estimate'}), "
                     f"{path.stat().st_size / 1e6:.0f} MB, valid={report.ok}, cpu {cpu:.2f} s"}


def _count_row(path: Path, provider: str, model: str) -> dict:
    with path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for _, line in zip(range(COUNT_EXAMPLES), handle)]
    texts = [m["content"] for r in records for m in r["messages"]]
    tok_id = tokens.tokenizer_id(provider, model)
    if tok_id in tokens.MISTRAL_FILES:
        inner = tokens.mistral_tokenizer(tok_id).instruct_tokenizer.tokenizer
        raw = lambda t: inner.encode(t, bos=False, eos=False)  # noqa: E731
    else:
        enc = tokens._quicktok(tok_id)
        raw = enc.encode
    start = time.perf_counter()
    raw_total = sum(len(raw(t)) for t in texts)
    raw_s = time.perf_counter() - start
    tokens.clear_word_caches()
    start = time.perf_counter()
    ours = sum(tokens.count_example_tokens(r, provider, model) for r in records)
    ours_s = time.perf_counter() - start
    ratio = ours_s / raw_s
    return {"name": f"token counting vs raw tokenizer ({provider}/{model})", "value": round(ratio, 2),
            "unit": "x raw time", "aim": f"<= {AIM_RATIO:g}x", "ok": ratio <= AIM_RATIO,
            "notes": f"{COUNT_EXAMPLES:,} examples / {len(texts):,} texts: ours {ours_s:.2f} s "
                     f"({ours:,} tokens with chat overhead), raw encode {raw_s:.2f} s "
                     f"({raw_total:,} tokens)"}


def run(workdir: Path) -> list[dict]:
    """Validation time for 100k examples and counting overhead, per tokenizer family."""
    workdir.mkdir(parents=True, exist_ok=True)
    files = {fmt: make_file(workdir / f"{fmt}_100k.jsonl", fmt) for fmt in {t[2] for t in TARGETS}}
    return ([_validate_row(files[fmt], provider, model) for provider, model, fmt in TARGETS] +
            [_count_row(files[fmt], provider, model) for provider, model, fmt in TARGETS])


if __name__ == "__main__":
    import tempfile

    for row in run(Path(tempfile.mkdtemp()) / "bench_targets"):
        print(json.dumps(row, ensure_ascii=False))
