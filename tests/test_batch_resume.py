"""SIGKILL `generate --batch --wait` between any two steps of a batch round, run it again, and
check that nothing was submitted twice, nothing paid was lost, and the dataset is the one a live
run makes.

The fake provider (tests/fake_batch_server.py) runs in this process and kills the `generate`
subprocess itself at a chosen step of its protocol: before its reply (the provider has done the
step, the client never hears of it) or after. It outlives the killed process and sees every batch
line received across all runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_batch_server import FakeBatchServer
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import cli_env, generate, point_env_at, provider_env, start_cli
from tests.test_batch_mode import accepted, agent, content_keys, until_done

CASES = [  # provider, step, killed before the reply, at the nth time the step happens
    ("openai", "upload", True, 1),    # the file exists at the provider, no batch was created
    ("openai", "create", True, 1),    # the batch exists, its id never reached us: found by tag
    ("openai", "create", False, 1),   # the id arrived; killed right after
    ("openai", "poll", True, 2),      # round 1 ended at the provider, not yet collected
    ("openai", "results", True, 1),   # killed while downloading round 1's results
    ("openai", "upload", True, 2),    # killed while submitting round 2
    ("anthropic", "create", True, 1),  # no metadata: found by size and creation time
    ("google", "create", True, 1),    # found by display name
    ("mistral", "results", True, 1),
]


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "step", "before", "nth"), CASES)
def test_a_kill_at_any_step_submits_nothing_twice_and_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str, step: str, before: bool,
        nth: int) -> None:
    with FakeBatchServer(responder=grounded_responder) as server:
        point_env_at(server, monkeypatch)
        config = agent(tmp_path, provider, **{"system.batch_poll_seconds": 0.05})
        code, live, err = generate(config)  # the reference: a live run in the first home
        assert code == 0, err
        reference, live_requests = accepted(), server.stats.requests

        home = tmp_path / "batch_home"
        monkeypatch.setenv("DATASET_BUILDER_HOME", str(home))
        proc = start_cli(config, tmp_path / "work", cli_env(home, provider_env(server)),
                         "--batch", "--wait", tag="killed")
        server.kill_on(step, proc.pid, before_reply=before, nth=nth)
        assert proc.wait(timeout=120) == -9, (tmp_path / "work" / "killed.err").read_text()

        result, said = until_done(config)
        asked = content_keys(server)
        assert server.stats.requests == live_requests  # still no live request
    assert len(asked) == len(set(asked)) == live_requests, said  # nothing submitted twice
    if step == "create" and before:
        assert "created before the submission was interrupted" in said  # found, not resent
    if step == "upload":
        assert "never reached the provider; they will be submitted again" in said
    assert accepted() == reference  # nothing lost: the live run's samples
    assert result["cost_usd"] == pytest.approx(live["cost_usd"] / 2, abs=1e-6)
