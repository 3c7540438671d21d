"""How `python -m src.main COMMAND` ends on our errors and on bugs (users vs. the test suite)."""

from __future__ import annotations

import logging
import types

import pytest

from src import main as entry
from src.errors import UsageError


def _command(exc: BaseException) -> types.SimpleNamespace:
    def run(args: object) -> int:
        raise exc
    return types.SimpleNamespace(HELP="fails", add_arguments=lambda parser: None, run=run)


def test_our_error_is_one_line_and_its_exit_code(monkeypatch, capsys):
    monkeypatch.setitem(entry.COMMANDS, "list", _command(UsageError("Say what to do.")))
    assert entry.main(["list"]) == 2
    assert capsys.readouterr().err.strip() == "Error: Say what to do."


def test_a_bug_is_a_traceback_under_tests(monkeypatch):
    monkeypatch.setitem(entry.COMMANDS, "list", _command(ZeroDivisionError("boom")))
    with pytest.raises(ZeroDivisionError):
        entry.main(["list"])


def test_a_bug_is_one_polite_line_for_users(monkeypatch, capsys, caplog):
    monkeypatch.delenv("DATASET_BUILDER_RERAISE")
    monkeypatch.setitem(entry.COMMANDS, "list", _command(ZeroDivisionError("boom")))
    with caplog.at_level(logging.ERROR, logger="src.main"):
        assert entry.main(["list"]) == 70
    err = capsys.readouterr().err
    assert "Internal error (ZeroDivisionError: boom)" in err and "Traceback" not in err
    assert caplog.records[-1].exc_info[0] is ZeroDivisionError  # the traceback goes to the log
