"""The menu's Train entry, driven by scripted answers against the local OpenAI fake: the confirmation
screen (files, examples, estimated cost, lifecycle notice), declining sends nothing, accepting starts
and follows the job, and the entry then lists the dataset's jobs."""

from __future__ import annotations

from src.config import db_path
from src.targets import catalog
from src.training.registry import TRAINERS
from tests.export_helpers import examples, store
from tests.test_menu import drive, menu_number
from tests.train_helpers import at_fixture, cfg_fixture, site  # noqa: F401 - fixtures

ENTRY = "Train a model (fine-tuning job on the provider)"


def choice_of(options: list[str], wanted: str) -> str:
    return str(options.index(wanted) + 1)


def target_answers() -> list[str]:
    providers = [p for p in catalog.providers_open_first() if p in TRAINERS]
    models = [m.model for m in catalog.models_open_first("openai")
              if catalog.status(m) in ("active", "closing")]
    return [choice_of(providers, "openai"), choice_of(models, "gpt-4o-mini-2024-07-18")]


def test_declining_the_confirmation_sends_nothing(monkeypatch, capsys, cfg, at) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        _, err, _ = drive(monkeypatch, capsys, [menu_number(ENTRY), "1", "1", *target_answers(),
                                                "n", menu_number("Exit")], cfg)
        assert "train       19 examples" in err and "validation  5 examples" in err
        assert "estimated training cost: $" in err and "2027-01-06" in err
        assert "Not started; nothing was uploaded." in err and s.fake.requests == []
    assert list((db_path().parent / "train").glob("*.jsonl")) == []


def test_accepting_starts_follows_and_then_lists_the_job(monkeypatch, capsys, cfg, at) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        out, err, _ = drive(monkeypatch, capsys, [menu_number(ENTRY), "1", "1", *target_answers(),
                                                  "y", "y", menu_number("Exit")], cfg)
        assert "Training job ftjob-1 created on openai" in out
        assert "succeeded: fine-tuned model ft:gpt-4o-mini-2024-07-18" in out
        assert s.fake.count("upload") == 2 and len(s.fake.jobs) == 1
        out, err, _ = drive(monkeypatch, capsys, [menu_number(ENTRY), "1", "2",
                                                  menu_number("Exit")], cfg)
        assert "ftjob-1" in out and "succeeded" in out and "Back" in err
        assert "Follow the running job" not in err  # it has ended: nothing to follow or cancel
