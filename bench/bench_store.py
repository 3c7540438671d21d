"""Benchmark: store 100,000 samples in SQLite, then export them (JSONL per split + CSV + stats)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from src.export.exporter import export_dataset
from src.models import Example, Turn
from src.persistence.sqlite_client import Database

SAMPLES = 100_000
BATCH = 2_000
AIM_S = 5.0
WORDS = ("tuition scholarship visa hostel exam campus deadline transcript embassy rupee semester "
         "faculty library admission interview passport medical insurance fee form").split()


def make_samples(n: int, seed: int = 1) -> list[Example]:
    """n realistic-sized Q&A samples over 50 source files, 90/10 split already set."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        answer = " ".join(rng.choice(WORDS) for _ in range(60))
        samples.append(Example(
            turns=[Turn("user", f"Question {i}: what about {rng.choice(WORDS)}?"),
                   Turn("assistant", answer)],
            system="Answer from the admission guide.", mode="create", origin="synthetic",
            source_file=f"guide_{i % 50}.pdf", location=f"page {i % 300}",
            chunk_id=f"guide_{i % 50}.pdf#{i % 300}", topic_keywords=[rng.choice(WORDS), "fees"],
            scores={"overall": 0.8, "extractive": 0.7, "detail": 0.9, "domain": 0.75},
            token_length=90 + i % 200, split="validation" if i % 10 == 0 else "train"))
    return samples


def _result(name: str, seconds: float, notes: str) -> dict:
    return {"name": name, "value": round(seconds, 3), "unit": "s", "aim": f"<= {AIM_S:g} s",
            "ok": seconds <= AIM_S, "notes": notes}


def run(workdir: Path) -> list[dict]:
    """Time storing and exporting SAMPLES samples under `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_file = workdir / "bench_store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    samples = make_samples(SAMPLES)
    with Database(db_file) as db:
        dataset_id = db.upsert_dataset("bench_store", "mistral", "open-mistral-7b", "create", {})
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(samples), BATCH):
            db.save_examples(dataset_id, samples[i:i + BATCH])
        db.refresh_totals(dataset_id)
        stored, stored_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        result = export_dataset("bench_store", db, out_dir=workdir / "out", include_stats=False,
                               include_report=False)
        exported, exported_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        export_dataset("bench_store", db, out_dir=workdir / "out_all")
        with_stats, with_stats_cpu = time.perf_counter() - start, time.process_time() - cpu
    size_mb = sum(p.stat().st_size for p in result.files.values()) / 1e6
    return [
        _result("store 100k samples in SQLite", stored,
                f"{SAMPLES:,} samples, {BATCH:,} per transaction, WAL; CPU {stored_cpu:.2f} s"),
        _result("export 100k samples (JSONL + CSV)", exported,
                f"format {result.fmt}; {result.counts}; {size_mb:.0f} MB written; "
                f"CPU {exported_cpu:.2f} s"),
        {"name": "export 100k samples (JSONL + CSV + stats JSON)", "value": round(with_stats, 3),
         "unit": "s", "aim": "report (the issue's aim covers JSONL + CSV)", "ok": True,
         "notes": f"what `export` does by default; CPU {with_stats_cpu:.2f} s"},
    ]


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp)), indent=2))
