"""The numbered menu. Actions are thin: ask (prompts.py), call one function, print the result.

The session keeps a working `Config` (from config.yaml, or the defaults when the file is broken);
Configure changes it, Generate uses it, and Save writes the changed keys back into config.yaml with
the user's comments kept. `_guarded` is the one place that shows errors: our own errors as one line,
anything unexpected logged with its traceback, and the menu carries on either way.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from src.agents.free_agent import load_free_prompt, save_free_prompt
from src.cli import console, prompts, reports, training
from src.cli import settings_editor as editor
from src.cli.agent_settings import set_agent
from src.cli.commands import list_datasets as list_command
from src.cli.prompts import Cancelled
from src.cli.render import error_summary, export_summary, render_stats
from src.cli.settings_editor import Session
from src.config import (
    EXPORT_FORMATS,
    PROJECT_ROOT,
    Config,
    agent_choice,
    db_path,
    home,
    load_config,
    project_path,
)
from src.errors import BuilderError, ConfigError, reraise_bugs
from src.export.error_report import analyze_dataset
from src.export.paths import safe_output_name
from src.export.stats import dataset_stats
from src.ingest.file_processor import iter_documents, iter_summaries
from src.persistence import backup
from src.persistence.sqlite_client import Database
from src.pipeline import batch
from src.pipeline.finish import export_files, unfinished_note
from src.pipeline.plan import keep_all, prepare
from src.pipeline.run import execute
from src.providers.batch_api import WINDOW, batch_estimate
from src.targets.catalog import validate_dataset_size
from src.targets.validator import validate_file as validate_jsonl

log = logging.getLogger("src.cli.menu")
TITLE = "=== Fine-Tuning Dataset Builder ==="
MAX_ISSUES_SHOWN = 20


Action = Callable[[Session], None]


def _guarded(action: Action, session: Session) -> None:
    """Run one action; every error is shown here and the menu goes on."""
    try:
        action(session)
    except Cancelled:
        console.info("Back.")
    except KeyboardInterrupt:
        console.info("Interrupted; back.")
    except BuilderError as exc:
        console.error(str(exc))
    except Exception as exc:  # a bug: traceback to the log, one line to the user
        if reraise_bugs():
            raise
        log.exception("unexpected error in menu action %s", getattr(action, "__name__", action))
        what = exc.__class__.__name__
        console.error(f"Something went wrong ({what}). The details are in "
                      f"{home() / 'memory' / 'logs' / 'builder.log'}; the menu carries on.")


def _submenu(title: str, items: list[tuple[str, Action]], session: Session,
             header: Callable[[Session], list[str]] | None = None) -> None:
    """Numbered items plus Back; Ctrl-C inside an item comes back here, at this prompt goes up."""
    while True:
        for line in header(session) if header else []:
            console.info(line)
        choice = prompts.ask_choice(title, [label for label, _ in items] + ["Back"])
        if choice == len(items):
            return
        _guarded(items[choice][1], session)


# ---------------------------------------------------------------- 1. Configure Dataset

def _summary(s: Session) -> list[str]:
    c = s.config
    split = (f"{round(c.split.ratio * 100)}/{round(100 - c.split.ratio * 100)} {c.split.strategy}"
             + (f" by {c.split.weight_by}" if c.split.strategy == "weighted" else "")
             if c.split.enabled else "none")
    provider, model = agent_choice(c)
    lines = [(f"Target {c.provider}/{c.model} | mode {c.mode} | size {c.dataset_size} | "
              f"split {split} | budget ${c.budget_usd:.2f}"),
             f"Agent {provider}/{model or '(no model yet: choose Agent LLM)'} | dataset "
             f"{c.output_name!r} | input {c.input.directory}"]
    if s.unsaved():
        lines.append(f"Not saved to config.yaml yet: {', '.join(s.unsaved())}")
    return lines


def _set_target(s: Session) -> None:
    provider, model = prompts.ask_target(s.config.provider, s.config.model)
    s.update({"provider": provider, "model": model})
    console.success(f"Target: {provider}/{model}.")
    _cap_size(s, s.config.dataset_size)  # the new target may allow fewer samples


def _cap_size(s: Session, desired: int) -> None:
    """Set the dataset size, capped at the target's limits with the reason shown."""
    decision = validate_dataset_size(desired, s.config.provider, s.config.model)
    if decision.capped:
        console.warn(decision.message)
    for warning in decision.warnings:
        console.warn(warning)
    if decision.size != s.config.dataset_size:
        s.update({"dataset_size": decision.size})


def _set_mode(s: Session) -> None:
    mode = prompts.ask_mode(s.config.mode)
    changes: dict[str, Any] = {"mode": mode}
    if mode == "hybrid":
        changes["agent.hybrid.generation_ratio"] = prompts.ask_float(
            "Share of created samples (0-1; the rest is identified)",
            s.config.agent.hybrid.generation_ratio, 0.0, 1.0)
    s.update(changes)
    if mode == "free" and not load_free_prompt(s.config):
        console.info(f"No instructions in {s.config.agent.free.prompt_file} yet: you will type "
                     "them when you generate.")
    hint = editor.key_hint(agent_choice(s.config)[0], s.config) if mode != "identify" else None
    if hint:
        console.warn(hint)
    console.success(f"Mode: {mode}.")


def _set_size(s: Session) -> None:
    _cap_size(s, prompts.ask_size("Desired number of samples", s.config.dataset_size))
    console.success(f"Dataset size: {s.config.dataset_size:,}.")


def _set_split(s: Session) -> None:
    split = s.config.split
    s.update(prompts.ask_split(split.enabled, split.ratio, split.strategy, split.weight_by))
    console.success(_summary(s)[0])


def _set_budget(s: Session) -> None:
    budget = prompts.ask_float("Budget cap for one run, in USD",
                               s.config.budget_usd, 0.0, 1_000_000.0)
    s.update({"budget_usd": budget})
    console.success(f"Budget: ${budget:.2f}.")


def _set_names(s: Session) -> None:
    name = prompts.ask_until("Dataset name (its folder under output_datasets/)", safe_output_name,
                             default=s.config.output_name)
    folder = prompts.ask_input_folder("Input folder or file", s.config.input.directory)
    s.update({"output_name": name, "input.directory": folder})
    console.success(f"Dataset {name!r} from {folder}.")


def configure(s: Session) -> None:
    """Configure Dataset: target, mode, size, split, budget, agent, names; save on request."""
    _submenu("Configure Dataset", [
        ("Target provider and model", _set_target), ("Generation mode", _set_mode),
        ("Dataset size", _set_size), ("Train/validation split", _set_split),
        ("Budget", _set_budget), ("Agent LLM (writes the samples)", set_agent),
        ("Dataset name and input folder", _set_names), ("Save to config.yaml", editor.save),
    ], s, header=_summary)


# ---------------------------------------------------------------- 2. Generate Dataset

def _free_prompt(s: Session) -> str:
    text = prompts.ask_free_instructions()
    if prompts.confirm(f"Save these instructions to {s.config.agent.free.prompt_file}?", True):
        path = save_free_prompt(s.config, text)
        console.success(f"Saved to {path}.")
    return text


def generate(s: Session) -> None:
    """Generate Dataset: read the input, show the plan and estimate, confirm, run, summarize."""
    plan = prepare(s.config)
    if s.config.mode == "free" and not plan.free_prompt:
        console.info(f"Free mode needs instructions and {s.config.agent.free.prompt_file} has none.")
        plan.free_prompt = _free_prompt(s)  # the files are read and chunked already
    for line in reports.describe_plan(plan):
        console.info(line)
    cap = plan.size_cap
    if cap is not None and cap.keep_all is not None and prompts.confirm(
            f"Keep all {cap.keep_all_kept:,} found (dataset size {cap.keep_all:,} for this run)?",
            default=True):
        keep_all(plan)
        console.info(f"Dataset size for this run: {plan.size:,}.")
    # prepare() has already refused an unreadable input folder and a missing key
    how = _how_to_run(plan)
    if how == "no":
        console.info("Not started.")
        return
    if how == "batch":
        plan.config.system.batch = True
        for line in reports.describe_batch(batch.follow(plan.config, plan)):
            console.out(line)
        return
    try:
        result = execute(plan)
    except KeyboardInterrupt:
        console.warn(f"Stopped by Ctrl-C. The samples made so far are saved in dataset "
                     f"{s.config.output_name!r}. To resume, choose Generate Dataset again with the "
                     "same dataset name; work already paid for is not paid again.")
        return
    for line in reports.describe_result(result):
        console.out(line)


def _how_to_run(plan) -> str:
    """live | batch | no: a run that could go through a Batch API offers both, side by side."""
    if plan.estimate is None or not reports.offers_batch(plan):
        return "live" if prompts.confirm("Start generating?", default=True) else "no"
    live, provider = plan.estimate, agent_choice(plan.config)[0]
    cheap = batch_estimate(live, provider)
    options = [f"Start now (live): about ${live.cost_usd:,.2f}, about {live.duration}",
               f"Through the {provider} Batch API: about ${cheap.cost_usd:,.2f} (half), results "
               f"{WINDOW}; nothing needs to stay open",
               "Do not start"]
    default = 1 if plan.config.system.batch else 0
    return ("live", "batch", "no")[prompts.ask_choice("How should it run?", options, default)]


# ---------------------------------------------------------------- 3, 4 and other dataset entries

def _open_db() -> Database:
    return Database(db_path())


def _choose_dataset(title: str) -> str | None:
    with _open_db() as db:
        rows = db.list_datasets()
    if not rows:
        console.info("No datasets yet: choose Generate Dataset first (or run `make demo`).")
        return None
    labels = [f"{r['name']} ({r['provider']}/{r['model']}, {r['mode']}, "
              f"{r['total_samples']} samples)" for r in rows]
    return rows[prompts.ask_choice(title, labels, default=0)]["name"]


def view_stats(s: Session) -> None:
    """View Dataset Statistics: tokens, distribution, sources, keywords, quality, cost, histogram."""
    name = _choose_dataset("View statistics of which dataset?")
    if name is None:
        return
    with _open_db() as db:
        console.out(render_stats(dataset_stats(db, name)))


def export(s: Session) -> None:
    """Export Dataset: JSONL in the target's format (or another), CSV metadata and stats."""
    name = _choose_dataset("Export which dataset?")
    if name is None:
        return
    fmt = prompts.ask_export_format(EXPORT_FORMATS, s.config.output.format)
    with _open_db() as db:
        note = unfinished_note(db, name)
        result = export_files(name, db, fmt=fmt)
    if note:
        console.warn(note)
    lines = export_summary(result)
    (console.success if result.valid else console.error)(lines[0])
    for line in lines[1:]:
        console.out(line)


def analyze_errors(s: Session) -> None:
    """Analyze errors: rejected samples grouped by category, with recommendations."""
    name = _choose_dataset("Analyze the rejected samples of which dataset?")
    if name is None:
        return
    report, paths = analyze_dataset(name)
    for line in error_summary(report):
        console.out(line)
    for path in paths:
        console.success(f"Report written to {path}")


def list_datasets(s: Session) -> None:
    """List the stored datasets."""
    list_command.run(argparse.Namespace(json=False))


def validate_file(s: Session) -> None:
    """Validate an existing JSONL file against a target."""
    path = prompts.ask_path("JSONL file to check")
    provider, model = s.config.provider, s.config.model
    if not prompts.confirm(f"Check it against {provider}/{model}?", default=True):
        provider, model = prompts.ask_target(provider, model)
    report = validate_jsonl(path, provider, model)
    data = report.to_dict()
    for severity, issues in (("error", report.errors), ("warning", report.warnings)):
        for issue in issues[:MAX_ISSUES_SHOWN]:
            console.out(f"  line {issue.line}: {severity} {issue.rule}: {issue.message}")
        if data.get(f"{severity}s_total", 0) > MAX_ISSUES_SHOWN:
            console.out(f"  ... {data[f'{severity}s_total'] - MAX_ISSUES_SHOWN} more {severity}s "
                        f"(all of them: python -m src.main validate {path} --json)")
    facts = (f"{data['examples']} examples, {data['total_tokens']:,} tokens "
             f"({data['token_counts']}), longest {data['max_example_tokens']:,} of "
             f"{data['token_limit']:,} allowed")
    if report.ok:
        console.success(f"{path} is valid for {provider}/{model}: {facts}.")
    else:
        console.error(f"{path} is NOT valid for {provider}/{model}: {data['errors_total']} "
                      f"error(s); {facts}.")


def restore_backup(s: Session) -> None:
    """Restore the database from one of its automatic backups."""
    found = backup.list_backups()
    if not found:
        console.info(f"No backups yet in {backup.backups_dir()}: one is made before every run.")
        return
    chosen = found[prompts.ask_choice("Restore which backup? (newest first)",
                                      [f"{backup.backup_time(p)}  {p.name}" for p in found], 0)]
    if not prompts.confirm(f"Replace the database {db_path()} with this backup? "
                           "(the current one is backed up first)", default=False):
        console.info("Nothing restored.")
        return
    safety = backup.restore(chosen, db_path())
    console.success(f"Restored {chosen.name}."
                    + (f" The previous database is kept as {safety}." if safety else ""))


def preview_inputs(s: Session) -> None:
    """Process input files: what the tool reads from each file, or why it skips it."""
    folder = prompts.ask_input_folder("Folder or file to read", s.config.input.directory)
    read = skipped = 0
    for summary in iter_summaries(iter_documents([project_path(folder)], s.config.input)):
        if not summary["ok"]:
            skipped += 1
            console.out(f"  skipped {summary['file']}: {summary['error']}")
            continue
        read += 1
        units = f", {summary['units']} {summary['unit_name']}" if summary["unit_name"] else ""
        console.out(f"  read {summary['file']}: {summary['format']}, {summary['blocks']} "
                    f"blocks{units}, {summary['characters']:,} characters")
        for warning in summary["warnings"]:
            console.out(f"    note: {warning}")
    console.info(f"{read} file(s) readable, {skipped} skipped.")


def train(s: Session) -> None:
    """Train a model: a dataset's jobs; confirm, upload and start one; follow or cancel it."""
    name = _choose_dataset("Train a model on which dataset?")
    if name is not None:
        training.train_menu(s.config, name)


# ---------------------------------------------------------------- 5. Settings

def settings(s: Session) -> None:
    """Settings: view the configuration, edit config.yaml, check which API keys are present."""
    _submenu("Settings", [
        ("View current configuration", editor.view_config), ("Edit config.yaml", editor.edit_file),
        ("Edit one value in place", editor.edit_value), ("Check API keys", editor.check_keys),
        ("Save this session's changes to config.yaml", editor.save),
    ], s)


# ---------------------------------------------------------------- the main loop

ENTRIES: list[tuple[str, Action | None]] = [
    ("Configure Dataset", configure), ("Generate Dataset", generate),
    ("View Dataset Statistics", view_stats), ("Export Dataset", export), ("Settings", settings),
    ("Exit", None), ("Validate a JSONL file", validate_file),
    ("Analyze errors of a dataset", analyze_errors), ("List datasets", list_datasets),
    ("Restore a database backup", restore_backup), ("Process input files (preview)", preview_inputs),
    ("Train a model (fine-tuning job on the provider)", train),
]


def start_session(path: Path) -> Session | None:
    """Load config.yaml; when it is broken, show why and offer the defaults (None: user declined)."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        console.error(str(exc))
        if not prompts.confirm("Continue with the default settings for this session?", True):
            console.info(f"Fix {path} and start again.")
            return None
        config = Config()
    return Session(path, config, config)


def run_menu(config_path: str | Path | None = None) -> int:
    """Loop until Exit or end of input; errors are shown and the menu goes on."""
    path = Path(config_path) if config_path else PROJECT_ROOT / "config.yaml"
    try:
        session = start_session(path)
    except Cancelled:
        return 0
    if session is None:
        return 2
    damaged = backup.check_integrity(db_path())
    if damaged:
        console.error(damaged.replace("with `python -m src.main restore`",
                                      "with entry 10, Restore a database backup"))
    while True:
        try:
            choice = prompts.ask_choice(TITLE, [label for label, _ in ENTRIES])
        except Cancelled:
            break
        action = ENTRIES[choice][1]
        if action is None:
            break
        _guarded(action, session)
    if session.unsaved():
        console.warn(f"Not saved to config.yaml: {', '.join(session.unsaved())}")
    console.info("Goodbye.")
    return 0
