"""`make bench`: run every bench_*.py, write bench/results.json and bench/REPORT.md.

Each benchmark module has `run(workdir: Path) -> list[dict]` with name, value, unit, aim, ok, notes;
each runs in its own interpreter. A benchmark that fails is reported as failed and the others still
run. `python -m bench.run bench_store` runs only the ones named.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
MODULES = ["bench_ingest", "bench_targets", "bench_llm", "bench_quality", "bench_store",
           "bench_identify", "bench_scale", "bench_batch", "bench_create"]


def machine() -> dict:
    """What this machine is, for the report."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def run_module(name: str, workdir: Path) -> tuple[list[dict], float]:
    """Run one benchmark in a fresh interpreter (as a user's command would), so the heap and the
    garbage collector left by an earlier benchmark cannot slow it down."""
    start = time.perf_counter()
    rows_file = workdir / f"{name}.rows.json"
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--one", name, str(rows_file)],
                          cwd=BENCH_DIR.parent)
    if proc.returncode == 0 and rows_file.exists():
        rows = json.loads(rows_file.read_text())
    else:  # one broken benchmark must not hide the others
        rows = [{"name": name, "value": 0, "unit": "", "aim": "runs", "ok": False,
                 "notes": f"benchmark failed (exit {proc.returncode}); see the output above"}]
    return rows, time.perf_counter() - start


def run_one(name: str, rows_file: Path) -> int:
    """The child side of run_module: run bench.<name> and write its rows as JSON."""
    module = importlib.import_module(f"bench.{name}")
    rows = module.run(rows_file.parent / name)
    rows_file.write_text(json.dumps(rows))
    return 0


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
    if sys.argv[1:2] == ["--one"]:
        sys.exit(run_one(sys.argv[2], Path(sys.argv[3])))
    sys.exit(main(sys.argv[1:]))
