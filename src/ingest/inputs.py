"""Which files a run reads, under which name, and opening them without surprises.

A run's input is a folder (or a file). Every file found gets a *name*: its path relative to the
resolved input folder, e.g. `faq.md` or `policies/visa.pdf`. The name is the file's identity in
samples, chunk ids, prompts and the resume cache, so it does not change when the same folder is
spelled differently (`../input`, a symlinked folder, an absolute path), and no absolute local path
is ever sent to a provider. Names are always printable: bytes of a file name that are not UTF-8
(what a Windows zip gives, `caf\\xe9_faq.md`) are shown as `\\xe9`, control characters as `\\n`
etc. (`printable_name`), so they can reach SQLite, JSON and the console.

Symbolic links stay inside the input folder unless `input.follow_symlinks` is on: a link whose
target lies outside is reported and not read (a link to a private key must never reach an LLM),
and so is a folder that cannot be opened. Links to places inside are read once, under the
target's own name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from src.config import InputConfig
from src.errors import InputFileError
from src.models import IngestFailure
from src.utils.text import printable_name

FOLLOW_HINT = "set input.follow_symlinks: true in config.yaml to read it"


@dataclass(frozen=True)
class InputFile:
    """A file to read: where it is on disk, and the printable name it is known by."""

    path: Path  # to open (may hold surrogate escapes: never show or store it)
    name: str  # identity and display form, relative to the input folder


def walk(paths: Iterable[str | Path], settings: InputConfig) -> Iterator[InputFile | IngestFailure]:
    """Every file under `paths` (folders recursively, sorted, hidden entries skipped), in order.

    A folder argument's files are named relative to it; a file argument by its own name."""
    for raw in paths:
        given = Path(raw)
        root = given.resolve()
        if root.is_dir():
            yield from _Walker(root, settings.follow_symlinks).folder(root, "")
        elif root.exists() or given.is_symlink():
            yield InputFile(root if root.exists() else given, printable_name(given.name))
        else:
            yield IngestFailure(printable_name(str(given)), "does not exist: check the path.")


class _Walker:
    """Depth-first walk of one input folder: a folder's files first, then its subfolders."""

    def __init__(self, root: Path, follow: bool):
        self.root, self.follow = root, follow
        self.seen_dirs: set[Path] = set()
        self.seen_files: set[Path] = set()

    def folder(self, path: Path, prefix: str) -> Iterator[InputFile | IngestFailure]:
        self.seen_dirs.add(_resolved(str(path)))
        try:
            entries = sorted((e for e in os.scandir(path) if not e.name.startswith(".")),
                             key=lambda e: e.name)
        except OSError as exc:
            yield IngestFailure(printable_name(prefix.rstrip("/") or path.name), _folder_error(exc))
            return
        files = [e for e in entries if not _is_dir(e)]
        folders = [e for e in entries if _is_dir(e)]
        for entry in files:
            yield from self._file(entry, prefix + entry.name)
        for entry in folders:
            yield from self._subfolder(entry, prefix + entry.name)

    def _file(self, entry: os.DirEntry, logical: str) -> Iterator[InputFile | IngestFailure]:
        if entry.is_symlink() and not os.path.exists(entry.path):
            yield IngestFailure(printable_name(logical), "is a broken symbolic link (or a loop of "
                                                        "them): there is nothing to read.")
            return
        target = _resolved(entry.path)
        name = self._name(target, logical)
        if name is None:
            yield IngestFailure(printable_name(logical), _outside(entry, "file"))
        elif target not in self.seen_files:  # two links to one file: read once
            self.seen_files.add(target)
            yield InputFile(target, printable_name(name))

    def _subfolder(self, entry: os.DirEntry, logical: str) -> Iterator[InputFile | IngestFailure]:
        target = _resolved(entry.path)
        name = self._name(target, logical)
        if name is None:
            yield IngestFailure(printable_name(logical), _outside(entry, "folder"))
        elif target not in self.seen_dirs:  # a link back up the tree would loop forever
            yield from self.folder(target, name + "/")

    def _name(self, target: Path, logical: str) -> str | None:
        """The name of a resolved entry: relative to the root, the link's own name when it is
        followed outside, or None when it points outside and links are not followed."""
        try:
            return str(target.relative_to(self.root))
        except ValueError:
            return logical if self.follow else None


def _resolved(path: str) -> Path:
    """The real path, links followed (a loop of links resolves to where it stops)."""
    return Path(os.path.realpath(path))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links: a link to a folder is a folder here
    except OSError:
        return False


def _outside(entry: os.DirEntry, kind: str) -> str:
    try:
        where = printable_name(os.readlink(entry.path))
    except OSError:
        where = "?"
    return (f"is a symbolic link to a {kind} outside the input folder ({where}): not read "
            f"(links are kept inside the input folder; {FOLLOW_HINT}).")


def _folder_error(exc: OSError) -> str:
    why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
    return (f"is a folder that cannot be opened ({why}): none of its files were read. Fix its "
            "permissions and run again.")


def open_regular(path: Path, name: str) -> int:
    """A read-only descriptor of `path`, refusing anything but a regular file without blocking.

    A FIFO, socket or device put in place of a file (even between the check and the read) would
    block or never end: it is opened non-blocking, checked with fstat, and refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise InputFileError(name, "cannot be read: permission denied. Check the file's "
                                   "permissions.") from None
    except OSError as exc:
        raise InputFileError(name, f"cannot be read ({exc.strerror or exc}).") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputFileError(name, f"is not a regular file (it is a {_kind(mode)}): only "
                                   "documents saved on disk are read.")
    os.set_blocking(fd, True)
    return fd


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "device"
