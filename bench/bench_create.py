"""Create mode's yield against a peer (issue 20): pairs/min, pairs/request, tokens/pair, memory.

The run of issue 20: a fake OpenAI-compatible server (tests/fake_llm_server.py) that answers after
800 ms and allows 600 requests/min (429 + Retry-After beyond), `system.rate_limit` set to that
limit, the 20-document corpus of bench/corpus (bench/make_corpus.py), and
`generate --mode create --size 1000` as a user runs it: a real subprocess, whose peak memory is
its own VmHWM read as it exits. The model's part is played by tests/grounded_responder.py with the
habits of real models switched on (numbering from 1 or not at all, echoed delimiters, fewer
items than asked, now and then an invented figure), seeded, so every run sees the same replies.

The peer's figures are quoted from issue 20 (synthetic-data-kit 0.0.5, measured there on the same
server, flags and corpus size); they are not re-measured here (the peer is not installed).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.fake_llm_server import FakeLLMServer
from tests.grounded_responder import RealisticResponder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
LATENCY_S = 0.8
LIMIT_RPM = 600
SIZE = 1000
PEER = {"pairs_per_min": 440, "pairs_per_request": 2.54, "tokens_per_pair": 506, "rss_mb": 132,
        "share_of_limit": 0.29}
AIM_SPEED = 2.0  # x the peer's pairs/min
AIM_RSS_MB = 200
AIM_ESTIMATE = 0.25  # the pre-run time estimate within this share of the run's time
HANG_S = 60.0  # a hanging request of the fault run
PROMPT_CACHE_MIN_TOKENS = 1024  # the server caches prompt prefixes like OpenAI does
DEFAULT_TOKENS_PER_MINUTE = 200_000  # config.yaml's system.rate_limit.tokens_per_minute
UNLIMITED = 100_000_000  # the fake server has no token limit: "set to the server's limit"
# The child reports its own peak memory as it exits (VmHWM is gone once the process is).
_WRAPPER = """
import atexit, runpy, sys
target = sys.argv[1]
def _peak():
    with open("/proc/self/status") as f:
        peak = [l.split()[1] for l in f if l.startswith("VmHWM")][0]
    with open(target, "w") as out:
        out.write(peak)
atexit.register(_peak)
sys.argv = [sys.argv[0]] + sys.argv[2:]
runpy.run_module("src.main", run_name="__main__")
"""


@functools.cache
def _port() -> int:
    """One port for every run's server: the same base URL, as a user's server keeps (the pace
    a run remembers is kept per agent and base URL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def model() -> RealisticResponder:
    """The model's part: grounded, with real models' habits (tests/grounded_responder.py)."""
    return RealisticResponder(seed=7, from_zero=0.15, unnumbered=0.1, delimiters=0.05,
                              labels=0.03, fewer=0.15, invented=0.03)


def _config(path: Path, tokens_per_minute: int, size: int = SIZE) -> Path:
    data = {"provider": "openai", "model": "gpt-4o-mini", "mode": "create", "dataset_size": size,
            "output_name": "bench_create", "budget_usd": 50.0,
            "input": {"directory": str(CORPUS)},
            "system": {"agentic_llm": "openai", "agentic_model": "gpt-4o-mini",
                       "rate_limit": {"requests_per_minute": LIMIT_RPM,
                                      "tokens_per_minute": tokens_per_minute}}}
    path.write_text(yaml.safe_dump(data))
    return path


def measure(workdir: Path, tokens_per_minute: int, tag: str, size: int = SIZE,
            faults: dict[str, float] | None = None, pace_from: str = "") -> dict:
    """One `generate` run in a subprocess against a fresh fake server; its figures. `faults`:
    the server's random fault rates (a hang lasts HANG_S); `pace_from`: the tag of an earlier
    run whose remembered server pace (memory/agent_speed.json, nothing else) this run starts with."""
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / f"home_{tag}"
    shutil.rmtree(home, ignore_errors=True)
    if pace_from:
        (home / "memory").mkdir(parents=True)
        shutil.copy(workdir / f"home_{pace_from}" / "memory" / "agent_speed.json",
                    home / "memory" / "agent_speed.json")
    config = _config(workdir / f"{tag}.yaml", tokens_per_minute, size)
    peak_file = workdir / f"{tag}.peak"
    server = FakeLLMServer(latency=LATENCY_S, requests_per_minute=LIMIT_RPM,
                           responder=model(), fault_rates=faults, hang_seconds=HANG_S, seed=3,
                           prompt_cache_min_tokens=PROMPT_CACHE_MIN_TOKENS, port=_port())
    with server:
        env = {"DATASET_BUILDER_HOME": str(home), "DATASET_BUILDER_NO_DOTENV": "1",
               "OPENAI_API_KEY": "sk-bench-0123456789", "PATH": "/usr/bin:/bin",
               "HOME": os.environ.get("HOME", "/tmp"),
               "OPENAI_BASE_URL": server.base_url("openai"), "NO_COLOR": "1"}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _WRAPPER, str(peak_file), "generate",
                               "--config", str(config), "--yes", "--json"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        stats = server.stats
    result = json.loads(proc.stdout) if proc.stdout.strip() else {}
    accepted = result.get("counts", {}).get("samples", 0)
    tokens = stats.billed_input_tokens + stats.billed_output_tokens
    answered = stats.statuses[200]
    estimate = re.search(r"Estimate: .*?about ([\d.]+) (s|min|h)\b", proc.stderr)
    estimated = (float(estimate.group(1)) * {"s": 1, "min": 60, "h": 3600}[estimate.group(2)]
                 if estimate else None)
    return {"exit": proc.returncode, "seconds": seconds, "accepted": accepted,
            "rejected": result.get("counts", {}).get("rejected", 0),
            "requests": stats.requests, "answered": answered, "429s": stats.statuses[429],
            "tokens": tokens, "input_tokens": stats.billed_input_tokens,
            "cached_input_tokens": stats.cached_input_tokens,
            "malformed_sent": stats.faults["malformed"],
            "malformed_retries": result.get("summary", {}).get("malformed_retries", 0),
            "failures": result.get("failures", {}),
            "network": result.get("summary", {}).get("network", {}),
            "pairs_per_min": accepted / seconds * 60 if seconds else 0.0,
            "pairs_per_request": accepted / answered if answered else 0.0,
            "tokens_per_pair": tokens / accepted if accepted else float("inf"),
            "share_of_limit": answered / seconds * 60 / LIMIT_RPM if seconds else 0.0,
            "rss_mb": int(peak_file.read_text()) / 1024 if peak_file.exists() else 0.0,
            "estimated_s": estimated, "warnings": result.get("warnings", []),
            "reasons": result.get("summary", {}).get("rejected_by_reason", {}),
            "stderr_tail": proc.stderr[-2000:]}


def run(workdir: Path) -> list[dict]:
    main = measure(workdir, UNLIMITED, "main")
    paced = measure(workdir, UNLIMITED, "paced", pace_from="main")
    default_tpm = measure(workdir, DEFAULT_TOKENS_PER_MINUTE, "default_tpm", pace_from="main")
    hangs = measure(workdir, UNLIMITED, "hangs", faults={"hang": 0.02}, pace_from="main")
    malformed = measure(workdir, UNLIMITED, "malformed", faults={"malformed": 0.05},
                        pace_from="main")
    ratio = main["pairs_per_min"] / PEER["pairs_per_min"]
    notes = (f"{main['accepted']} accepted of {SIZE} asked in {main['seconds']:.1f} s (whole "
             f"command), {main['requests']} requests ({main['429s']} 429s), {main['rejected']} "
             f"rejected {main['reasons']}; exit {main['exit']}")
    return [
        {"name": "accepted pairs/min vs peer (440)", "value": round(main["pairs_per_min"], 1),
         "unit": "pairs/min", "aim": f">= {AIM_SPEED:g}x peer = {AIM_SPEED * PEER['pairs_per_min']:.0f}",
         "ok": ratio >= AIM_SPEED and main["accepted"] >= SIZE,
         "notes": f"{ratio:.2f}x the peer; {notes}"},
        {"name": "accepted pairs per request (peer 2.54)", "value": round(main["pairs_per_request"], 2),
         "unit": "", "aim": "> peer", "ok": main["pairs_per_request"] > PEER["pairs_per_request"],
         "notes": f"{main['answered']} answered requests"},
        {"name": "tokens per accepted pair (peer 506)", "value": round(main["tokens_per_pair"]),
         "unit": "tokens", "aim": "<= 506", "ok": main["tokens_per_pair"] <= PEER["tokens_per_pair"],
         "notes": (f"prompt + completion, the server's count ({main['cached_input_tokens']:,} of "
                   f"{main['input_tokens']:,} input tokens read from its prompt cache)")},
        {"name": "peak RSS of the run (peer 132 MB)", "value": round(main["rss_mb"], 1),
         "unit": "MB", "aim": f"<= {AIM_RSS_MB}", "ok": 0 < main["rss_mb"] <= AIM_RSS_MB,
         "notes": "VmHWM of the generate process"},
        _estimate_row("pre-run time estimate / run time, server's pace remembered", paced,
                      True),
        _estimate_row("pre-run time estimate / run time, first run (pace unknown)", main,
                      False),
        {"name": "accepted pairs/min, default tokens_per_minute (200,000)",
         "value": round(default_tpm["pairs_per_min"], 1), "unit": "pairs/min",
         "aim": f">= {AIM_SPEED * PEER['pairs_per_min']:.0f}",
         "ok": default_tpm["pairs_per_min"] >= AIM_SPEED * PEER["pairs_per_min"],
         "notes": (f"only requests_per_minute raised to {LIMIT_RPM}: {default_tpm['requests']} "
                   f"requests in {default_tpm['seconds']:.1f} s; the token limit binds "
                   f"({default_tpm['tokens']:,} tokens); estimate "
                   f"{default_tpm['estimated_s']} s")},
        {"name": "with 2% of requests hanging 60 s: pairs/min (peer 65)",
         "value": round(hangs["pairs_per_min"], 1), "unit": "pairs/min", "aim": "> peer",
         "ok": hangs["pairs_per_min"] > 65 and hangs["accepted"] >= SIZE,
         "notes": (f"{hangs['accepted']} accepted in {hangs['seconds']:.1f} s; the run counted "
                   f"{hangs['network']}")},
        {"name": "with 5% malformed replies: pairs lost silently (peer 20)",
         "value": _lost(malformed), "unit": "pairs", "aim": "0",
         "ok": _lost(malformed) == 0 and malformed["accepted"] >= SIZE,
         "notes": (f"{malformed['malformed_sent']} malformed replies sent; the run repaired "
                   f"{malformed['malformed_retries']} and recorded "
                   f"{malformed['failures'].get('malformed_output', 0)} failed work items; "
                   f"{malformed['accepted']} accepted")},
    ]


def _estimate_row(name: str, run_: dict, counted: bool) -> dict:
    """The estimate's share of the run's time; `counted`: held to the aim (±25%)."""
    ratio = run_["estimated_s"] / run_["seconds"] if run_["estimated_s"] else 0.0
    return {"name": name, "value": round(ratio, 2), "unit": "x",
            "aim": f"within {1 - AIM_ESTIMATE:g}-{1 + AIM_ESTIMATE:g}" if counted else "reported",
            "ok": abs(ratio - 1) <= AIM_ESTIMATE if counted else True,
            "notes": f"estimated {run_['estimated_s']} s, took {run_['seconds']:.1f} s"}


def _lost(run_: dict) -> int:
    """Malformed replies the server sent that the run neither repaired (one repair request
    each) nor recorded as a failed work item: pairs lost without a word."""
    recorded = run_["malformed_retries"] + run_["failures"].get("malformed_output", 0)
    return max(0, run_["malformed_sent"] - recorded)


if __name__ == "__main__":
    out = measure(Path("bench/work/bench_create"), int(sys.argv[1]) if sys.argv[1:] else 100_000_000,
                  "manual", int(sys.argv[2]) if sys.argv[2:] else SIZE)
    print(json.dumps({k: v for k, v in out.items() if k != "stderr_tail"}, indent=1))
    print(out["stderr_tail"])
