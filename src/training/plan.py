"""Before anything leaves the machine: pick the target, validate and export, pin the files, price it.

The export is the provider's own format, written by the exporter and validated there; when the
model trained differs from the one the export was checked against, the files are checked again
for that model. An invalid dataset is refused here, before any upload. The files to upload are
pinned by a hard link under memory/train/ (an export replaces files, never rewrites them), so the
bytes hashed are the bytes uploaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from src.config import Config, db_path
from src.errors import StorageError, UsageError
from src.export.exporter import ExportResult, export_dataset, find_dataset
from src.export.paths import safe_output_name
from src.persistence.sqlite_client import Database
from src.targets import catalog
from src.targets.spec import ModelSpec
from src.targets.validator import validate_file
from src.training.base import LocalFile
from src.training.registry import trainer_class

SUFFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
EPOCHS_WHEN_UNPUBLISHED = (1, 50)
PROBLEMS_SHOWN = 8
HASH_CHARS = 16  # of the file's sha256, in the name the provider sees
FILE_NOTE = " The file is still formatted and validated for this target."


@dataclass
class TrainPlan:
    """What `train` will send, and where, before anything is sent."""

    dataset_id: str
    dataset_name: str
    name: str  # the dataset's safe output name (locks, files)
    provider: str
    spec: ModelSpec
    epochs: int | None
    suffix: str | None
    files: list[LocalFile]
    export_folder: Path
    tokens: int  # training tokens in the train file (one epoch)
    cost_usd: float | None
    cost_note: str
    run_key: str
    notices: list[str] = field(default_factory=list)

    @property
    def settings(self) -> dict:
        return {"epochs": self.epochs, "suffix": self.suffix}

    def examples(self, role: str = "train") -> int:
        return sum(f.examples for f in self.files if f.role == role)

    def discard(self) -> None:
        """Remove the pinned copies (the export itself stays)."""
        for file in self.files:
            file.path.unlink(missing_ok=True)


def pins_dir() -> Path:
    return db_path().parent / "train"


def plan_training(db: Database, name: str, provider: str | None = None, model: str | None = None,
                  epochs: int | None = None, suffix: str | None = None,
                  today: date | None = None, config: Config | None = None) -> TrainPlan:
    """Check the target and settings, export and validate, pin the files; refuse what would fail.

    With `config`, the provider's credentials and settings are checked first (before the export).
    """
    dataset = find_dataset(db, name)
    provider = provider or dataset["provider"]
    trainer = trainer_class(provider)
    default = dataset["model"] if provider == dataset["provider"] else None
    spec = catalog.get_model(provider, model or default or catalog.DEFAULT_MODEL[provider])
    notices = lifecycle_notices(spec, today)
    check_settings(spec, epochs, suffix)
    if config is not None:
        trainer(config).check_ready()
    exported = export_dataset(dataset["name"], db, fmt=provider, model=spec.model)
    roles = upload_roles(exported, spec, notices)
    refuse_invalid(exported, roles, spec, dataset["name"])
    files = [pin(path, role, exported.name, count) for role, (path, count) in roles.items()]
    tokens = int(exported.validation.get("train" if "train" in exported.validation else "all",
                                         {}).get("total_tokens") or 0)
    cost, note = estimate_cost(spec, tokens, epochs or _default_epochs(spec, trainer.default_epochs))
    key = run_key(dataset["id"], spec, epochs, suffix, files)
    return TrainPlan(dataset["id"], dataset["name"], safe_output_name(dataset["name"]), provider,
                     spec, epochs, suffix, files, exported.folder, tokens, cost, note, key, notices)


def lifecycle_notices(spec: ModelSpec, today: date | None) -> list[str]:
    """The provider's lifecycle notice; a target that takes no new jobs is refused."""
    warning = catalog.lifecycle_warning(spec.provider, spec.model, today)
    if warning is None:
        return []
    warning = warning.removesuffix(FILE_NOTE)
    if catalog.status(spec, today) != "closing":
        raise UsageError(f"Not started: {warning} Choose an open target with --provider/--model "
                         "(see `python -m src.main models`).")
    return [warning]


def check_settings(spec: ModelSpec, epochs: int | None, suffix: str | None) -> None:
    lo, hi = spec.epochs[:2] if spec.epochs else EPOCHS_WHEN_UNPUBLISHED
    if epochs is not None and not lo <= epochs <= hi:
        raise UsageError(f"--epochs {epochs}: {spec.label} takes {lo} to {hi} epochs.")
    if suffix is not None and not SUFFIX.match(suffix):
        raise UsageError(f"--suffix {suffix!r}: use 1 to 40 letters, digits, '-' or '_', "
                         "starting with a letter or digit (it becomes part of the model's name).")


def upload_roles(exported: ExportResult, spec: ModelSpec,
                 notices: list[str]) -> dict[str, tuple[Path, int]]:
    """{role: (file, examples)}: train (or the one unsplit file), and validation when it is used."""
    key = "train" if "train" in exported.files else "all"
    roles = {"train": (exported.files[key], exported.counts.get(key, 0))}
    if "validation" in exported.files:
        count = exported.counts.get("validation", 0)
        if spec.validation_set:
            roles["validation"] = (exported.files["validation"], count)
        else:
            notices.append(f"The validation split ({count} examples) is not uploaded: "
                           f"{spec.label} ignores a validation file.")
    return roles


def refuse_invalid(exported: ExportResult, roles: dict[str, tuple[Path, int]], spec: ModelSpec,
                   name: str) -> None:
    """UsageError with the validator's findings when a file to upload is not valid for `spec`."""
    problems = list(exported.problems) if not exported.valid else []
    if exported.target != f"{spec.provider}/{spec.model}":  # checked for another model: again
        problems = []
        for role, (path, _) in roles.items():
            report = validate_file(path, spec.provider, spec.model, split=role)
            problems += [f"{path.name}: {'line ' + str(i.line) if i.line else 'file'}: "
                         f"{i.message}" for i in report.errors[:PROBLEMS_SHOWN]]
    if problems:
        shown = "\n  - ".join(problems[:PROBLEMS_SHOWN])
        raise UsageError(f"Not uploaded: {name!r} is not valid for {spec.provider}/{spec.model}:"
                         f"\n  - {shown}\nThe full report: python -m src.main validate "
                         f"{roles['train'][0]} --provider {spec.provider} --model {spec.model}")


def pin(path: Path, role: str, name: str, examples: int) -> LocalFile:
    """A hard link (or copy) of an exported file under memory/train/, named with its hash."""
    folder = pins_dir()
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:60] or "dataset"
    temp = folder / f".{ascii_name}_{role}.{os.getpid()}.pin"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp.unlink(missing_ok=True)
        try:
            os.link(path, temp)
        except OSError:  # another file system, or links not allowed: copy instead
            shutil.copyfile(path, temp)
        digest = file_sha256(temp)
        final = folder / f"{ascii_name}_{role}-{digest[:HASH_CHARS]}.jsonl"
        os.replace(temp, final)
    except OSError as exc:
        raise StorageError(f"Cannot prepare {path.name} for upload in {folder} "
                           f"({exc.strerror or exc}): check that the folder is writable.") from None
    return LocalFile(role, final, final.name, digest, final.stat().st_size, examples)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _default_epochs(spec: ModelSpec, provider_default: int | None) -> int | None:
    return spec.epochs[2] if spec.epochs else provider_default


def estimate_cost(spec: ModelSpec, tokens: int, epochs: int | None) -> tuple[float | None, str]:
    """(USD or None, how it was reckoned) from the catalog's training price."""
    price = spec.training_price_per_1m
    if price is None:
        return None, f"no training price in the catalog ({spec.price_note or 'not published'})"
    per_epoch = tokens * price / 1e6
    basis = f"{tokens:,} tokens x ${price:.2f}/1M ({spec.price_note or 'catalog price'})"
    if epochs is None:
        return round(per_epoch, 4), f"per epoch; the provider picks the epochs; {basis}"
    return round(per_epoch * epochs, 4), f"{epochs} epoch(s) x {basis}"


def run_key(dataset_id: str, spec: ModelSpec, epochs: int | None, suffix: str | None,
            files: list[LocalFile]) -> str:
    """The identity of a training request: same dataset, target, settings and bytes = same job."""
    data = {"dataset": dataset_id, "provider": spec.provider, "model": spec.model,
            "epochs": epochs, "suffix": suffix, "files": {f.role: f.sha256 for f in files}}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
