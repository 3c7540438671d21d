"""Agent LLM client at a provider's rate limit: throughput, 429s, cost accounting, hangs.

Sustained throughput is measured from the first answer on: the client sends its first request
alone (so a refused key costs one request); that start-up cost is reported in the notes.

A fake provider (tests/fake_llm_server.py) answers after 800 ms and enforces 600 requests/minute
itself (429 + Retry-After beyond it). The real `openai` SDK sends 300 structured-output requests
through LLMClient; then the same again with 2% of requests hanging past the client's timeout.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.config import Config
from src.providers.llm_client import LLMClient, failure_category
from tests.fake_llm_server import FakeLLMServer

REQUESTS = 300
LIMIT_RPM = 600
LATENCY_S = 0.8
TIMEOUT_S = 5.0  # a per-request timeout a few times the normal latency
HANG_RATE = 0.02
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["question", "answer"],
          "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _config() -> Config:
    config = Config(budget_usd=100.0)
    config.system.agentic_llm, config.system.agentic_model = "openai", "gpt-4o-mini"
    config.system.timeout = TIMEOUT_S
    config.system.concurrency = 16
    config.system.rate_limit.requests_per_minute = LIMIT_RPM
    config.system.rate_limit.tokens_per_minute = 10_000_000
    return config


async def _job(client: LLMClient, answered: list[float]) -> tuple[int, dict[str, int]]:
    async def one(i: int) -> str:
        try:
            await client.complete_json("You write one question and its answer as JSON.",
                                       f"Passage {i}: the library opens at {i % 12 + 7} am.",
                                       SCHEMA)
            answered.append(time.perf_counter())
            return "done"
        except Exception as exc:  # recorded with a reason, as an agent would
            return failure_category(exc)

    outcomes = await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    await client.aclose()
    failed: dict[str, int] = {}
    for outcome in outcomes:
        if outcome != "done":
            failed[outcome] = failed.get(outcome, 0) + 1
    return outcomes.count("done"), failed


def _measure(fault_rates: dict[str, float]) -> dict:
    server = FakeLLMServer(latency=LATENCY_S, requests_per_minute=LIMIT_RPM,
                           fault_rates=fault_rates, hang_seconds=TIMEOUT_S * 3, seed=7)
    with server, _env({"OPENAI_API_KEY": "sk-test-123",
                       "OPENAI_BASE_URL": server.base_url("openai")}):
        client = LLMClient(_config(), None)
        answered: list[float] = []
        start = time.perf_counter()
        done, failed = asyncio.run(_job(client, answered))
        seconds = time.perf_counter() - start
    totals, stats = client.totals, server.stats
    # The client sends its first request alone (a refused key then costs one request): the
    # steady state starts with that first answer; the whole run's rate is reported beside it.
    steady = max(1e-9, seconds - (answered[0] - start)) if answered else seconds
    return {"done": done, "failed": failed, "seconds": seconds, "first_s": seconds - steady,
            "rpm": (done - 1) / steady * 60 if answered else 0.0,
            "whole_rpm": done / seconds * 60, "429s": stats.statuses[429],
            "hangs": stats.requests - sum(stats.statuses.values()),
            "tokens_ours": (totals["input_tokens"], totals["output_tokens"]),
            "tokens_server": (stats.billed_input_tokens, stats.billed_output_tokens),
            "requests_sent": totals["requests_sent"], "server_requests": stats.requests}


def run(workdir: Path) -> list[dict]:
    """Two runs of REQUESTS requests: fault-free, then with HANG_RATE hanging requests."""
    clean = _measure({})
    hangs = _measure({"hang": HANG_RATE})
    share = clean["rpm"] / LIMIT_RPM
    kept = hangs["rpm"] / clean["rpm"]
    exact = clean["tokens_ours"] == clean["tokens_server"] and \
        hangs["tokens_ours"] == hangs["tokens_server"]
    base_notes = (f"{REQUESTS} requests, {LATENCY_S * 1000:.0f} ms latency, server limit "
                  f"{LIMIT_RPM}/min, 16 in flight, timeout {TIMEOUT_S:g} s")
    return [
        {"name": "sustained throughput vs rate limit", "value": round(share * 100, 1),
         "unit": "%", "aim": ">= 95 %", "ok": share >= 0.95 and clean["done"] == REQUESTS,
         "notes": f"{clean['rpm']:.0f} req/min after the first answer ({clean['first_s']:.1f} s: "
                  "the first request goes alone to prove the key); "
                  f"{clean['whole_rpm']:.0f} req/min over the whole {clean['seconds']:.1f} s; "
                  f"{clean['done']}/{REQUESTS} done, failed {clean['failed']}; {base_notes}"},
        {"name": "429s received (fault-free run)", "value": clean["429s"], "unit": "",
         "aim": "<= 3", "ok": clean["429s"] <= 3,
         "notes": f"{clean['requests_sent']} requests sent for {REQUESTS} items"},
        {"name": "token accounting vs server bill", "value": 100.0 if exact else 0.0,
         "unit": "% exact", "aim": "exact", "ok": exact,
         "notes": f"ours {clean['tokens_ours']} / server {clean['tokens_server']} (in, out); "
                  f"hang run ours {hangs['tokens_ours']} / server {hangs['tokens_server']}"},
        {"name": "throughput with 2% hanging requests", "value": round(kept * 100, 1),
         "unit": "% of fault-free", "aim": ">= 80 %",
         "ok": kept >= 0.80 and hangs["done"] + sum(hangs["failed"].values()) == REQUESTS,
         "notes": f"{hangs['rpm']:.0f} req/min over {hangs['seconds']:.1f} s; "
                  f"{hangs['hangs']} hung requests timed out and were retried; "
                  f"{hangs['done']}/{REQUESTS} done, failed {hangs['failed']}; "
                  f"{hangs['429s']} 429s"},
    ]


if __name__ == "__main__":
    for row in run(Path("bench/work/bench_llm")):
        print(row)
