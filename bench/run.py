"""`make bench`: run every bench_*.py, write bench/results.json and bench/REPORT.md.

Each benchmark module has `run(workdir: Path) -> list[dict]` with name, value, unit, aim, ok, notes.
A benchmark that fails is reported as failed (with its error) and the others still run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import shutil
import sys
import time
import traceback
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
MODULES = ["bench_ingest", "bench_targets", "bench_llm", "bench_quality", "bench_store"]


def machine() -> dict:
    """What this machine is, for the report."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def run_module(name: str, workdir: Path) -> tuple[list[dict], float]:
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        rows = module.run(workdir / name)
    except Exception as exc:  # one broken benchmark must not hide the others
        traceback.print_exc()
        rows = [{"name": name, "value": 0, "unit": "", "aim": "runs", "ok": False,
                 "notes": f"benchmark failed: {exc.__class__.__name__}: {exc}"}]
    return rows, time.perf_counter() - start


def report(results: dict) -> str:
    m = results["machine"]
    lines = ["# Benchmark report", "",
             f"Machine: {m['cores']} cores, {m['memory_gb']} GB RAM, {m['processor']}, "
             f"{m['platform']}, Python {m['python']}; run {m['date']}; "
             f"total {results['seconds']:.0f} s.", "",
             "| benchmark | figure | value | aim | met |", "|---|---|---|---|---|"]
    for module, block in results["benchmarks"].items():
        for row in block["rows"]:
            value = row["value"]
            shown = f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else value
            lines.append(f"| {module} | {row['name']} | {shown} {row['unit']} | {row['aim']} | "
                         f"{'yes' if row['ok'] else 'NO'} |")
    lines += ["", "## Notes", ""]
    for module, block in results["benchmarks"].items():
        for row in block["rows"]:
            if row.get("notes"):
                lines.append(f"- {module} / {row['name']}: {row['notes']}")
    return "\n".join(lines) + "\n"


def main(selected: list[str]) -> int:
    workdir = BENCH_DIR / "work"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    os.environ.setdefault("DATASET_BUILDER_HOME", str(workdir / "home"))
    start = time.perf_counter()
    results: dict = {"machine": machine(), "benchmarks": {}}
    for name in selected or MODULES:
        print(f"== {name}", file=sys.stderr, flush=True)
        rows, seconds = run_module(name, workdir)
        results["benchmarks"][name] = {"seconds": round(seconds, 1), "rows": rows}
        for row in rows:
            print(f"   {row['name']}: {row['value']} {row['unit']} (aim {row['aim']}) "
                  f"{'ok' if row['ok'] else 'MISSED'}", file=sys.stderr, flush=True)
    results["seconds"] = round(time.perf_counter() - start, 1)
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2))
    (BENCH_DIR / "REPORT.md").write_text(report(results))
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"Wrote {BENCH_DIR / 'results.json'} and {BENCH_DIR / 'REPORT.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
