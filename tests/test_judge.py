"""The grounded LLM judge through `generate`, against the fake provider server (real SDK): verdicts
stored, rejections, batching, the estimate, the budget, resume, and models that misnumber."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import load_config
from src.pipeline.plan import prepare
from src.quality.judge import GROUNDING_REASONS, JUDGE_BATCH, RUBRIC, agreement
from tests.fake_llm_server import FakeLLMServer
from tests.judge_responder import is_judge_request, judging_responder
from tests.pipeline_helpers import generate, point_env_at, stored, write_config

JUDGED = {"quality.llm_judge": True, "agent.create.questions_per_chunk": 3}


def judge_requests(server: FakeLLMServer) -> list:
    return [r for r in server.stats.received if is_judge_request(r)]


def test_judge_verdicts_rejections_batches_and_resume(tmp_path: Path, monkeypatch) -> None:
    with FakeLLMServer(responder=judging_responder(reject=2)) as server:
        point_env_at(server, monkeypatch)
        config = write_config(tmp_path, dataset_size=12, **JUDGED)
        code, result, err = generate(config)
        assert code == 0, err
        asked = judge_requests(server)
        assert asked and all(r.body["temperature"] == 0.0 for r in asked)
        examples = stored("pipe")
        judged = [e for e in examples if e.judge]
        # the judge calls conversation 2 of each request unsupported: one sample per request
        unsupported = [e for e in judged if not e.judge["supported"]]
        kept = {e.question for e in examples}  # work items beyond the size are not stored
        second = [r.user.split("### Conversation 2\nUser: ", 1)[1].split("\n", 1)[0]
                  for r in asked if "### Conversation 2" in r.user]
        assert len(unsupported) == sum(q in kept for q in second) > 0
        rejected = [e for e in examples if "judge_rejected" in e.reasons]
        assert rejected and rejected == [e for e in unsupported if e.reasons == ["judge_rejected"]]
        assert all(set(RUBRIC) <= set(e.judge) and e.judge["rationale"] for e in judged)
        accepted = [e for e in examples if not e.reasons]
        assert len(accepted) == result["counts"]["samples"] == 12
        assert all(e.judge and e.scores["judge"] == 0.75 for e in accepted)  # "the guide" questions
        for request in asked:  # one chunk per request, sent once, at most JUDGE_BATCH samples
            assert request.user.count('"""') == 2
            assert request.user.count("### Conversation ") <= JUDGE_BATCH
        figures = agreement(examples)
        assert figures["judged"] == len(judged)
        offline_passed = [e for e in unsupported if not GROUNDING_REASONS & set(e.reasons)]
        assert figures["judge_only_fails"] == len(offline_passed) and figures["both_pass"] >= 12
        agree = figures["both_pass"] + figures["both_fail"]
        assert figures["agreement"] == round(agree / len(judged), 4) < 1
        sent = server.stats.requests
        code, again, err = generate(config)
        assert code == 0, err
        assert server.stats.requests == sent  # every verdict came from the cache


def test_judge_is_counted_in_the_estimate(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    unjudged = {**JUDGED, "quality.llm_judge": False}
    without = prepare(load_config(write_config(tmp_path, dataset_size=30, **unjudged))).estimate
    with_judge = prepare(load_config(write_config(tmp_path, dataset_size=30, **JUDGED))).estimate
    assert without is not None and with_judge is not None
    slots = without.requests  # one request per chunk pass writes its (at most 3) samples
    assert with_judge.requests == without.requests + slots  # three samples: one judge request each
    assert with_judge.input_tokens > without.input_tokens and with_judge.cost_usd > without.cost_usd


def test_judge_stops_at_the_budget_and_never_crosses_it(tmp_path: Path, monkeypatch) -> None:
    with FakeLLMServer(responder=judging_responder()) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(write_config(tmp_path, dataset_size=40, budget_usd=0.004,
                                                  **JUDGED))
        assert result is not None, err
        assert result["stopped_reason"].startswith("Budget reached: $")  # with the figures
        assert 0 < result["cost_usd"] <= 0.004
        assert judge_requests(server)
        examples = stored("pipe")
        accepted = [e for e in examples if not e.reasons]
        assert all(e.judge or any(n.startswith("judge: not judged") for n in e.notes) for e in accepted)


@pytest.mark.parametrize("number_from, drop", [(0, 0), (1, 1)])
def test_models_that_number_from_zero_or_return_fewer_verdicts(tmp_path: Path, monkeypatch,
                                                               number_from: int, drop: int) -> None:
    with FakeLLMServer(responder=judging_responder(number_from=number_from, drop=drop)) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(write_config(tmp_path, dataset_size=6, **JUDGED))
        assert code == 0, err
        synthetic = [e for e in stored("pipe") if e.answer]
        if drop:  # the last conversation of each request got no verdict: kept, and said so
            noted = [e for e in synthetic if any("no verdict came back" in n for n in e.notes)]
            assert noted and not any(e.judge for e in noted)
            assert all(e.judge or e in noted for e in synthetic if not e.reasons)
        else:
            judged = [e for e in synthetic if e.judge]
            assert all(e.judge for e in synthetic if not e.reasons)
            assert not any("no verdict" in n for e in synthetic for n in e.notes)
            assert judged and all(e.judge["supported"] for e in judged)  # numbers mapped right
