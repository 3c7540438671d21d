"""Upload an `hf` export folder to the Hugging Face Hub as a dataset repository.

`huggingface_hub.HfApi(endpoint=..., token=...)`: `create_repo(exist_ok=True)` then one
`upload_folder`. The token comes from HF_TOKEN (`.env` or the environment) and is passed
explicitly; HF_ENDPOINT, when set, points the client elsewhere (the tests' local fake Hub).
Library errors are translated here into our own, with what to do next.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from src.errors import AuthError, ProviderError, UsageError
from src.export.exporter import EXPORT_WAIT_S, ExportResult, export_dataset, find_dataset
from src.export.paths import safe_output_name
from src.masking import mask_secrets
from src.persistence.locks import dataset_lock
from src.persistence.sqlite_client import Database

TOKEN_ENV = "HF_TOKEN"
ENDPOINT_ENV = "HF_ENDPOINT"
DEFAULT_ENDPOINT = "https://huggingface.co"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


@dataclass
class PushResult:
    """Where the dataset went."""

    repo: str
    url: str
    commit: str
    files: list[str]
    private: bool


def check_repo_id(repo: str) -> str:
    """OWNER/NAME as the Hub spells repository ids; UsageError otherwise."""
    if not REPO_ID.match(repo) or ".." in repo or repo.endswith((".git", ".")):
        raise UsageError(f"--repo {repo!r} is not OWNER/NAME (letters, digits, '-', '_', '.'), "
                         "for example my-org/handbook-qa.")
    return repo


def _token() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise AuthError(f"No Hugging Face token: set {TOKEN_ENV} in .env (a token with write "
                        "access from your Hub settings), then run push again.")
    return token


def _translate(exc: Exception, repo: str) -> Exception:
    """A huggingface_hub / HTTP error as our own error, secrets masked."""
    cause = exc.__cause__ if isinstance(exc, RuntimeError) and exc.__cause__ else exc
    status = getattr(getattr(cause, "response", None), "status_code", None)
    text = mask_secrets(str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
    if status in (401, 403):
        return AuthError(f"The Hub refused the token for {repo} ({status}): check that {TOKEN_ENV} "
                         "is valid and has write access to that owner.")
    if status is not None:
        return ProviderError(f"The Hub answered {status} while pushing {repo}: {text}")
    return ProviderError(f"Could not reach the Hub to push {repo} ({exc.__class__.__name__}: "
                         f"{text}). Check the network or {ENDPOINT_ENV}, then run push again.")


def push_folder(folder: Path, repo: str, private: bool = False) -> PushResult:
    """Create the dataset repo if needed and upload `folder` (README.md + data/) in one commit."""
    # huggingface_hub (and its HTTP stack) loads only for a push
    from httpx2 import HTTPError
    from huggingface_hub import HfApi

    check_repo_id(repo)
    endpoint = os.environ.get(ENDPOINT_ENV, "").rstrip("/") or DEFAULT_ENDPOINT
    api = HfApi(endpoint=endpoint, token=_token())
    try:
        url = api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type="dataset",
                                 commit_message="Upload dataset (Fine-Tuning Dataset Builder)")
    # HfHubHTTPError is an httpx2.HTTPError; a failed LFS upload is re-raised as RuntimeError
    except (HTTPError, OSError, ValueError, RuntimeError) as exc:
        raise _translate(exc, repo) from None
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return PushResult(repo=repo, url=str(url), commit=str(getattr(info, "oid", "") or ""),
                      files=files, private=private)


def push_dataset(name: str, repo: str, db: Database, private: bool = False) -> tuple[
        ExportResult, PushResult]:
    """Export the dataset as `hf` (fresh, validated), then upload that folder; all under its lock."""
    check_repo_id(repo)
    _token()  # say what is missing before any work
    dataset = find_dataset(db, name)
    with dataset_lock(safe_output_name(dataset["name"]), "push", wait_s=EXPORT_WAIT_S):
        exported = export_dataset(dataset["name"], db, fmt="hf")
        if not exported.valid:
            raise UsageError(f"Not pushed: the hf export of {dataset['name']!r} is not valid "
                             f"({'; '.join(exported.problems[:3])}). Fix the samples (see "
                             f"`python -m src.main export {dataset['name']} --format hf`).")
        return exported, push_folder(exported.folder, repo, private)
