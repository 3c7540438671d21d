"""Benchmark: every core and a Ray cluster (issue 18), and memory of large identify runs (issue 21).

- PDF pages/s through `prepare` (read, identify stage 1, chunk) with 1 worker and with all cores,
  and whether both give the same plan (aim: >= 1.8x on 2 cores, identical).
- 5,000 small files, 1 worker and all cores.
- peak memory (the whole process tree: the run and its workers, shared pages counted once) of
  `generate --mode identify` on a 60,000-row CSV, and of preparing a 50 MB one-line text file.
- the Ray engine (bench_ray.py) on a local 2-CPU Ray against the fake LLM server.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

from bench.bench_ingest import PDF_SOURCES
from bench.bench_ray import ray_rows
from tests.pipeline_helpers import write_documents

ROOT = Path(__file__).resolve().parent.parent
AIM_SPEEDUP = 1.8
AIM_RSS_MB = 400
PDF_COPIES = 20
SMALL_FILES = 5000
CSV_ROWS = 60_000
ONE_LINE_MB = 50

_PREPARE = """
import json, sys, time
from src.config import load_config
from src.pipeline.plan import prepare
if __name__ == "__main__":
    start = time.perf_counter()
    plan = prepare(load_config(sys.argv[1]))
    seconds = time.perf_counter() - start
    facts = [plan.read, [(f.path, f.reason) for f in plan.skipped],
             [(e.source_file, e.span, e.text) for e in plan.extracted],
             [(c.id, c.start, c.end, c.text) for c in plan.chunks]]
    import hashlib
    digest = hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()
    print(json.dumps({"seconds": seconds, "digest": digest, "read": len(plan.read),
                      "chunks": len(plan.chunks), "extracted": len(plan.extracted)}))
"""


def _config(folder: Path, path: Path, **system: object) -> Path:
    data = {"provider": "openai", "model": "gpt-4o-mini", "mode": "hybrid",
            "input": {"directory": str(folder)},
            "system": {"agentic_llm": "openai", "agentic_model": "gpt-4o-mini", **system}}
    path.write_text(yaml.safe_dump(data))
    return path


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, DATASET_BUILDER_HOME=str(home), DATASET_BUILDER_NO_DOTENV="1",
                OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL="http://127.0.0.1:9/v1")


def _tree_peak(command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """(stdout, peak memory MB of the process and all its children together, seconds).

    Sampled every 0.3 s (reading /proc/*/smaps costs CPU: the speed runs do not use this)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    parent, peak = psutil.Process(proc.pid), 0.0
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in tree) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.3)
    out = proc.stdout.read() if proc.stdout else ""
    return out, peak, time.perf_counter() - start


def _rss(process: psutil.Process) -> int:
    """Proportional set size: pages shared by the workers (the libraries they all load from
    the same fork server) counted once across the tree, not once per process as RSS would."""
    try:
        return process.memory_full_info().pss
    except (psutil.Error, AttributeError):
        return process.memory_info().rss


def _prepare(workdir: Path, folder: Path, workers: int) -> dict:
    """`prepare` in a fresh interpreter with `workers` (its own timing: nothing else runs)."""
    config = _config(folder, workdir / f"prepare_{workers}.yaml", workers=workers)
    proc = subprocess.run([sys.executable, "-c", _PREPARE, str(config)], cwd=ROOT, check=True,
                          env=_env(workdir / "home"), capture_output=True, text=True)
    return json.loads(proc.stdout)


def _speedup_rows(workdir: Path, folder: Path, what: str, count: float, unit: str) -> list[dict]:
    one, every = _prepare(workdir, folder, 1), _prepare(workdir, folder, 0)
    same = one["digest"] == every["digest"]
    speedup = one["seconds"] / every["seconds"]
    cores = os.cpu_count() or 1
    notes = (f"{one['read']} files read, {one['chunks']} chunks, {one['extracted']} examples; "
             f"1 worker {one['seconds']:.1f} s, {cores} workers {every['seconds']:.1f} s; "
             f"identical output: {same}; the pool's start (a fork server, each worker's "
             "tokenizer) is included")
    return [
        {"name": f"{what} ({unit}, 1 worker)", "value": round(count / one["seconds"], 1),
         "unit": unit, "aim": "report", "ok": True, "notes": notes},
        {"name": f"{what} ({unit}, {cores} workers)", "value": round(count / every["seconds"], 1),
         "unit": unit, "aim": "report", "ok": True, "notes": notes},
        {"name": f"{what}: all cores vs 1 worker", "value": round(speedup, 2), "unit": "x",
         "aim": f">= {AIM_SPEEDUP}x on 2 cores, identical output",
         "ok": same and (speedup >= AIM_SPEEDUP or cores < 2), "notes": notes},
    ]


def pdf_rows(workdir: Path) -> list[dict]:
    """Pages per second preparing a folder of PDFs, one worker against all cores."""
    import pdfplumber

    folder = workdir / "pdfs"
    folder.mkdir(parents=True, exist_ok=True)
    pages = 0
    for source in [p for p in PDF_SOURCES if p.exists()]:
        with pdfplumber.open(source) as pdf:
            count = len(pdf.pages)
        for copy in range(PDF_COPIES):
            shutil.copy(source, folder / f"{source.stem}_{copy:02d}.pdf")
            pages += count
    return _speedup_rows(workdir, folder, "PDF pages/s", pages, "pages/s")


def small_files_rows(workdir: Path) -> list[dict]:
    """5,000 small Markdown files, one worker against all cores (reported: so little work that
    no pool is started unless it is estimated to save time, see engine/local.py)."""
    folder = workdir / "small"
    write_documents(folder, files=SMALL_FILES, paragraphs=3, sentences=3)
    rows = _speedup_rows(workdir, folder, f"{SMALL_FILES:,} small files", SMALL_FILES, "files/s")
    rows[-1].update(aim="report (below a second of work: read in one process)", ok=True)
    return rows


def identify_rss_row(workdir: Path) -> dict:
    """Peak RSS of `generate --mode identify` on a 60,000-row question/answer CSV."""
    folder = workdir / "csv60k"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(3)
    words = ["fee", "visa", "hostel", "exam", "library", "course", "June", "office", "form"]
    with open(folder / "faq.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "question", "answer", "category"])
        for i in range(CSV_ROWS):
            question = f"What about {' '.join(rng.choice(words) for _ in range(6))} number {i}?"
            answer = "It is " + " ".join(rng.choice(words) for _ in range(50)) + f" ref {i}."
            writer.writerow([i, question, answer, f"cat{i % 7}"])
    size = (folder / "faq.csv").stat().st_size / 2**20
    config = _config(folder, workdir / "identify.yaml")
    data = yaml.safe_load(config.read_text())
    data.update(mode="identify", output_name="csv60k", dataset_size=100)
    config.write_text(yaml.safe_dump(data))
    _, peak, seconds = _tree_peak([sys.executable, "-m", "src.main", "generate", "--config",
                                   str(config), "--yes", "--json"], _env(workdir / "home"))
    return {"name": f"peak memory, identify on a {CSV_ROWS:,}-row CSV", "value": round(peak, 1),
            "unit": "MB", "aim": f"< {AIM_RSS_MB} MB (whole process tree)", "ok": peak < AIM_RSS_MB,
            "notes": f"{size:.0f} MB CSV, the whole run and its workers; {seconds:.0f} s "
                     "(issue 21 measured 1.15-1.31 GB before)"}


def one_line_row(workdir: Path) -> dict:
    """Preparing a 50 MB text file that is a single line: time and peak RSS."""
    folder = workdir / "oneline"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    words = ["alpha", "beta", "gamma", "delta", "policy", "fee", "June", "office"]
    with open(folder / "minified.txt", "w", encoding="utf-8") as out:
        while out.tell() < ONE_LINE_MB << 20:
            out.write(" ".join(rng.choice(words) for _ in range(1000)) + " ")
    config = _config(folder, workdir / "oneline.yaml", workers=1)
    out, peak, _ = _tree_peak([sys.executable, "-c", _PREPARE, str(config)], _env(workdir / "home"))
    if not out:
        raise RuntimeError("prepare of the one-line file failed")
    result = json.loads(out)
    return {"name": f"prepare a {ONE_LINE_MB} MB single-line text", "value": round(result["seconds"], 1),
            "unit": "s", "aim": f"peak < {AIM_RSS_MB} MB", "ok": peak < AIM_RSS_MB,
            "notes": f"peak RSS {peak:.0f} MB, {result['chunks']:,} chunks of at most 900 tokens "
                     "(issue 21 measured 60 s and 1.53 GB before)"}


def run(workdir: Path) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    rows = pdf_rows(workdir) + small_files_rows(workdir)
    rows += [identify_rss_row(workdir), one_line_row(workdir)]
    rows += ray_rows(workdir / "ray")
    shutil.rmtree(workdir, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for row in run(ROOT / "bench" / "work" / "bench_scale"):
        print(row)
