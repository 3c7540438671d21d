"""Batch mode next to a live run of the same job, against the fake provider (real openai SDK).

The same create job (generated documents, 200 samples) runs twice in separate homes: live, then
`generate --batch --wait` through the Batch API of tests/fake_batch_server.py, which answers a batch
line exactly as its live endpoint answers the same request. Figures: the cost ratio (aim 0.5),
requests sent to the live endpoint by the batch run (aim 0), whether the accepted samples are
identical (ids, turns, scores, split), the rounds and batch requests it took.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

from src.config import db_path
from src.main import main
from src.persistence.sqlite_client import Database
from tests.fake_batch_server import FakeBatchServer
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import FAST_LIMITS, provider_env, write_config, write_documents

SIZE = 200
FILES = 30


def _generate(config: Path, home: Path, *extra: str) -> tuple[dict, float]:
    os.environ["DATASET_BUILDER_HOME"] = str(home)
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["generate", "--config", str(config), "--yes", "--json", *extra])
    return json.loads(out.getvalue()), time.perf_counter() - start


def _accepted() -> dict[str, tuple]:
    with Database(db_path()) as db:
        found = db.load_examples(db.get_dataset("bench")["id"])
    return {e.id: (tuple(t.content for t in e.turns), e.scores.get("overall"), e.split)
            for e in found}


def run(workdir: Path) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    docs = workdir / "docs"
    write_documents(docs, files=FILES, paragraphs=3, sentences=6, seed=11)
    config = write_config(workdir, **{"input.directory": str(docs), "dataset_size": SIZE,
                                      "output_name": "bench", "budget_usd": 20.0,
                                      "chunking.chunk_tokens": 300,
                                      "system.rate_limit": FAST_LIMITS,
                                      "system.batch_poll_seconds": 0.05})
    os.environ.update(DATASET_BUILDER_NO_DOTENV="1", NO_COLOR="1")
    with FakeBatchServer(responder=grounded_responder) as server:
        os.environ.update(provider_env(server))
        live, live_s = _generate(config, workdir / "live_home")
        live_requests, reference = server.stats.requests, _accepted()
        batch, batch_s = _generate(config, workdir / "batch_home", "--batch", "--wait")
        sent_live = server.stats.requests - live_requests
        same = _accepted() == reference
        rounds = len(server.batches)
        lines = len(server.custom_ids)
    ratio = batch["cost_usd"] / live["cost_usd"] if live["cost_usd"] else 0.0
    return [
        {"name": "batch/live cost ratio", "value": round(ratio, 4), "unit": "", "aim": "0.5",
         "ok": abs(ratio - 0.5) < 0.001,
         "notes": f"live ${live['cost_usd']:.6f} for {live_requests} requests, batch "
                  f"${batch['cost_usd']:.6f} for {lines} batch lines in {rounds} batches"},
        {"name": "live requests in batch mode", "value": sent_live, "unit": "requests",
         "aim": "0", "ok": sent_live == 0, "notes": ""},
        {"name": "accepted samples identical to the live run", "value": int(same), "unit": "",
         "aim": "1 (yes)", "ok": same,
         "notes": f"{len(reference)} accepted samples (ids, turns, scores, split) compared"},
        {"name": "batch requests vs live requests", "value": lines, "unit": "requests",
         "aim": f"{live_requests} (each once)", "ok": lines == live_requests,
         "notes": f"live run {live_s:.1f} s; batch run {batch_s:.1f} s against a fake that "
                  "ends each batch at the first poll (a real one takes minutes to 24 h)"},
    ]
