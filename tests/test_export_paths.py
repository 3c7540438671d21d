"""Output names cannot leave output_datasets/; files appear whole or not at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from src.config import output_root
from src.errors import UsageError
from src.export.paths import (
    MAX_NAME_BYTES,
    dataset_dir,
    remove_leftovers,
    safe_output_name,
    staged_folder,
)


@pytest.mark.parametrize("name", ["my_dataset", "console", "数据集", "a.b", "x" * 120])
def test_a_safe_name_stays_as_it_is(name: str) -> None:
    assert safe_output_name(name) == name


@pytest.mark.parametrize(("name", "head"), [
    ("../x", "x"),
    ("../../../../etc/passwd", "etc_passwd"),
    ("/etc/x", "etc_x"),
    ("a/b", "a_b"),
    ("a\\b", "a_b"),
    ("C:\\temp\\x", "C_temp_x"),
    ("CON", "CON"),
    ("con.txt", "con_.txt"),
    ("lpt1", "lpt1"),
    ("données été", "données_été"),
    ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ("a\x00b\nc", "abc"),
    ("\u202eexe.txt", "exe.txt"),
    (".hidden", "hidden"),
    ("name.", "name"),
    ("a  b??c", "a_b_c"),
])
def test_a_changed_name_keeps_its_letters_and_gets_a_hash(name: str, head: str) -> None:
    safe = safe_output_name(name)
    assert re.fullmatch(re.escape(head) + r"-[0-9a-f]{8}", safe), safe
    assert safe_output_name(safe) == safe  # idempotent


def test_names_that_differ_never_share_a_folder() -> None:
    names = ["a b", "a_b", "a:b*?<>|", "a/b", "a__b", "A_B", "a b "]
    assert len({safe_output_name(n) for n in names}) == len(names)
    assert safe_output_name("a_b") == "a_b"


@pytest.mark.parametrize("name", ["数" * 86, "数" * 300, "x" * 300, "é" * 200, "ß" * 150])
def test_long_names_fit_the_file_name_limit_with_every_suffix(name: str, tmp_path: Path) -> None:
    safe = safe_output_name(name)
    assert len(safe.encode()) <= MAX_NAME_BYTES
    assert safe_output_name(safe) == safe
    longest = f".{safe}_llamafactory_validation.jsonl.abcdefgh.part"
    (tmp_path / longest).write_text("ok")  # the file system accepts it (255-byte limit)
    assert len(longest.encode()) < 255


@pytest.mark.parametrize("name", ["", "   ", "..", "/", "../..", "\x00", "???"])
def test_names_with_nothing_usable_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="letters, digits"):
        safe_output_name(name)


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/b", "..\\..\\x", "~/x", "CON", "é/../é"])
def test_dataset_dir_is_always_directly_inside_the_output_root(name: str) -> None:
    folder = dataset_dir(name)
    assert folder.parent == output_root().resolve()


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_staged_folder_appears_whole_and_replaces_the_old_set(tmp_path: Path) -> None:
    target = tmp_path / "out" / "set"
    target.mkdir(parents=True)
    (target / "a.jsonl").write_text("old a")
    (target / "b.jsonl").write_text("old b")
    with staged_folder(target) as staging:
        (staging / "a.jsonl").write_text("new a")
        assert _files(target) == {"a.jsonl": "old a", "b.jsonl": "old b"}  # nothing new yet
    assert _files(target) == {"a.jsonl": "new a"}  # the set switched as one: b is gone
    assert sorted(p.name for p in target.parent.iterdir()) == ["set"]  # no staging left


def test_other_files_are_carried_over_but_the_replaced_set_is_not(tmp_path: Path) -> None:
    target = tmp_path / "set"
    (target / "trl").mkdir(parents=True)
    (target / "trl" / "x.jsonl").write_text("other format")
    (target / "set_errors.json").write_text("{}")
    (target / "set.jsonl").write_text("old own file")
    (target / "link").symlink_to(tmp_path)
    with staged_folder(target, keep_others=True, replaced=frozenset({"set.jsonl"})) as staging:
        (staging / "set_train.jsonl").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["set_errors.json", "set_train.jsonl", "trl"]
    assert (target / "trl" / "x.jsonl").read_text() == "other format"


def test_a_crash_mid_write_keeps_the_old_set_and_no_staging(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    target = tmp_path / "set"
    target.mkdir(parents=True)
    (target / "a.jsonl").write_text("old a")
    with pytest.raises(RuntimeError):
        with staged_folder(target) as staging:
            (staging / "a.jsonl").write_text("new a, complete")
            raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["set"]
    assert _files(target) == {"a.jsonl": "old a"}


def test_leftovers_of_a_killed_export_are_removed_and_an_old_set_put_back(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "set"
    (tmp_path / ".set.staging-0123456789ab").mkdir()
    old = tmp_path / ".set.old-ba9876543210"
    old.mkdir()
    (old / "a.jsonl").write_text("old a")  # killed between the two renames of the fallback
    (tmp_path / ".set.x.staging-0123456789ab").mkdir()  # another dataset's: left alone
    removed = remove_leftovers(target)
    assert [p.name for p in removed] == [".set.staging-0123456789ab"]
    assert _files(target) == {"a.jsonl": "old a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".set.x.staging-0123456789ab", "set"]
