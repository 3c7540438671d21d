"""Issue 14: the plan says, before anything is written, when the dataset size would drop
conversations identify found, and how to keep them all; the menu offers to keep all."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from src.cli import menu
from src.cli.reports import describe_plan
from src.config import load_config
from src.persistence.sqlite_client import Database
from src.pipeline.plan import keep_all, prepare
from tests.pipeline_helpers import SAMPLES, write_config

DEMO_FOUND = 23  # conversations identify stage 1 finds in demo/samples (6 in library_guide.pdf)


def identify_config(tmp_path: Path, **overrides):  # type: ignore[no-untyped-def]
    settings = {"mode": "identify", "dataset_size": 10, "input.directory": str(SAMPLES), **overrides}
    return load_config(write_config(tmp_path, **settings))


def test_plan_says_what_the_size_drops_and_how_to_keep_all(tmp_path: Path) -> None:
    plan = prepare(identify_config(tmp_path))
    assert plan.size_cap is not None
    assert (plan.size_cap.found, plan.size_cap.keeping) == (DEMO_FOUND, 10)
    message = (f"Identify found {DEMO_FOUND} conversation(s); keeping 10 because dataset_size is 10. "
               f"--size {DEMO_FOUND} (or Keep all in the menu) keeps all.")
    assert plan.size_cap.message == message
    assert message in describe_plan(plan)
    keep_all(plan)
    assert plan.size == DEMO_FOUND and plan.size_cap is None


def test_no_note_when_the_size_keeps_everything(tmp_path: Path) -> None:
    assert prepare(identify_config(tmp_path, dataset_size=DEMO_FOUND)).size_cap is None


def test_hybrid_names_its_identified_half(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-secret-0123456789")
    plan = prepare(identify_config(tmp_path, mode="hybrid", **{"agent.hybrid.generation_ratio": 0.5}))
    assert plan.size_cap is not None
    assert plan.size_cap.keeping == 5 and plan.size_cap.keep_all == 2 * DEMO_FOUND
    assert "hybrid keeps 5 identified of dataset_size 10" in plan.size_cap.message
    assert f"--size {2 * DEMO_FOUND} (or Keep all in the menu) keeps all." in plan.size_cap.message
    estimate = plan.estimate
    keep_all(plan)
    assert plan.size == 2 * DEMO_FOUND and plan.estimate is not None and estimate is not None
    assert plan.estimate.requests >= estimate.requests  # the created half grew with the size


def test_menu_offers_to_keep_all_and_the_run_keeps_all(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture,
                                                       tmp_path: Path) -> None:
    config = write_config(tmp_path, mode="identify", dataset_size=10, output_name="keepall",
                          **{"input.directory": str(SAMPLES), "split.enabled": False})
    answers = iter(["2", "y", "y", "6"])  # Generate, Keep all, Start, Exit
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    assert menu.run_menu(config) == 0
    err = capsys.readouterr().err
    assert f"Identify found {DEMO_FOUND} conversation(s); keeping 10" in err
    assert f"Dataset size for this run: {DEMO_FOUND}." in err
    from src.config import db_path

    with Database(db_path()) as db:
        dataset_id = db.get_dataset("keepall")["id"]
        assert len(db.load_examples(dataset_id)) == DEMO_FOUND
