"""Output names that cannot escape output_datasets/ nor merge, and file sets that switch as one.

An export writes its whole set of files into a fresh hidden folder beside the destination, then
swaps the two folders in one step (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere two renames, where
a kill between them leaves no folder for an instant, never a mix). Readers therefore see the old
set or the new one, never train from one export and validation from another. Leftovers of a killed
export are removed by the next export of the same dataset, under that dataset's lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.config import output_root
from src.errors import StorageError, UsageError

MAX_NAME_BYTES = 120  # leaves room for suffixes under the 255-byte file-name limit
HASH_CHARS = 8
# Names Windows refuses for a file or folder, whatever the extension (CON, con.txt, LPT1, ...).
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}
_UNSAFE = re.compile(r"[^\w.-]+")  # \w is Unicode-aware: letters and digits of any script stay
AT_FDCWD = -100
RENAME_EXCHANGE = 2


def _clean(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # controls, bidi
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text)
    return re.sub(r"_{2,}", "_", text).strip("._-")


def _cut_bytes(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def safe_output_name(name: str) -> str:
    """A folder/file name of letters, digits, '.', '-' and '_' only; never a path, at most 120 bytes.

    A name that had to change gets a short hash of the original ("a b" -> "a_b-1f2e3d4c"), so two
    different names never share a folder; a name that is already safe stays as it is, and
    safe_output_name(safe_output_name(x)) == safe_output_name(x).
    """
    original = str(name)
    text = _clean(original)
    if not text:
        raise UsageError(f"The output name {name!r} has no usable characters. Choose a name made "
                         "of letters, digits, '-' or '_' (for example my_dataset).")
    stem, dot, rest = text.partition(".")
    if stem.lower() in _RESERVED:  # Windows refuses CON and CON.anything: change the stem
        text = f"{stem}_{dot}{rest}"
    if text == original and len(text.encode("utf-8")) <= MAX_NAME_BYTES:
        return text
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    head = _cut_bytes(text, MAX_NAME_BYTES - HASH_CHARS - 1).rstrip("._-") or "dataset"
    return f"{head}-{digest}"


def dataset_dir(name: str, root: Path | None = None) -> Path:
    """output_datasets/<safe name>/ (or under `root`), checked to stay inside that folder."""
    root = (root or output_root()).resolve()
    folder = (root / safe_output_name(name)).resolve()
    if folder.parent != root:  # a link planted at the dataset's folder, or a bug
        raise UsageError(f"The output folder for {name!r} would be outside {root} (is "
                         f"{root / safe_output_name(name)} a symbolic link? remove it).")
    return folder


# ---------------------------------------------------------------- folders that switch as one

def _leftover(target: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(target.name)}\.(staging|old)-[0-9a-f]{{12}}$")


def remove_leftovers(target: Path) -> list[Path]:
    """Hidden staging folders a killed export left beside `target`; an old set is put back first.

    Call it only while holding the dataset's lock (another export's staging is not a leftover).
    """
    if not target.parent.is_dir():
        return []
    pattern = _leftover(target)
    found = sorted(p for p in target.parent.iterdir() if pattern.match(p.name))
    olds = [p for p in found if ".old-" in p.name]
    if olds and not os.path.lexists(target):  # killed between the two renames of the fallback
        os.rename(olds[-1], target)
        found.remove(olds[-1])
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise StorageError(f"Cannot put the new export in place of {b} ({os.strerror(code)}).")


def _swap_in(staging: Path, target: Path) -> None:
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the previous set
    else:
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)


def _sync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def carry_over(old: Path, new: Path, replaced: frozenset[str] = frozenset()) -> None:
    """Hard-link into `new` what `old` holds and `new` lacks (other exports, reports), except the
    names in `replaced` (files of the set being replaced) and links."""
    if not old.is_dir() or old.is_symlink():
        return
    for entry in old.iterdir():
        dest = new / entry.name
        if entry.name.startswith(".") or entry.name in replaced or os.path.lexists(dest) or \
                entry.is_symlink():
            continue
        if entry.is_dir():
            dest.mkdir()
            carry_over(entry, dest)
        elif entry.is_file():
            try:
                os.link(entry, dest)
            except OSError:  # another file system, or links not allowed: copy
                shutil.copy2(entry, dest)


@contextmanager
def staged_folder(target: Path, keep_others: bool = False,
                  replaced: frozenset[str] = frozenset()) -> Iterator[Path]:
    """A fresh hidden folder to write a whole file set into; on success it replaces `target`.

    `keep_others`: files and folders of the previous `target` that the new set does not write
    (other formats' folders, reports) are carried over, except the names in `replaced` (the
    previous set's own files). On any error, nothing changes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    staging = target.with_name(f".{target.name}.staging-{uuid.uuid4().hex[:12]}")
    staging.mkdir()
    try:
        yield staging
        if keep_others:
            carry_over(target, staging, replaced)
        _sync_tree(staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
