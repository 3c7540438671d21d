"""Output names cannot leave output_datasets/; files appear whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import output_root
from src.errors import UsageError
from src.export.paths import StagedFiles, dataset_dir, safe_output_name


@pytest.mark.parametrize(("name", "expected"), [
    ("my_dataset", "my_dataset"),
    ("../x", "x"),
    ("../../../../etc/passwd", "etc_passwd"),
    ("/etc/x", "etc_x"),
    ("a/b", "a_b"),
    ("a\\b", "a_b"),
    ("C:\\temp\\x", "C_temp_x"),
    ("CON", "CON_"),
    ("con.txt", "con.txt_"),
    ("lpt1", "lpt1_"),
    ("console", "console"),
    ("données été", "données_été"),
    ("数据集", "数据集"),
    ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ("a\x00b\nc", "abc"),
    ("\u202eexe.txt", "exe.txt"),
    (".hidden", "hidden"),
    ("name.", "name"),
    ("a  b??c", "a_b_c"),
    ("x" * 300, "x" * 100),
])
def test_safe_output_name(name: str, expected: str) -> None:
    assert safe_output_name(name) == expected


@pytest.mark.parametrize("name", ["", "   ", "..", "/", "../..", "\x00", "???"])
def test_names_with_nothing_usable_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="letters, digits"):
        safe_output_name(name)


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/b", "..\\..\\x", "~/x", "CON", "é/../é"])
def test_dataset_dir_is_always_directly_inside_the_output_root(name: str) -> None:
    folder = dataset_dir(name)
    assert folder.parent == output_root().resolve()


def test_staged_files_appear_together_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with StagedFiles() as staged:
        for name in ("a.jsonl", "b.csv"):
            with staged.open(out / name) as handle:
                handle.write(name)
        assert all(p.name.endswith(".tmp") for p in out.iterdir())  # nothing final yet
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "b.csv"]
    assert (out / "b.csv").read_text() == "b.csv"


def test_a_crash_mid_write_keeps_the_old_files_and_no_temporaries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.jsonl").write_text("old a")
    with pytest.raises(RuntimeError):
        with StagedFiles() as staged:
            with staged.open(out / "a.jsonl") as handle:
                handle.write("new a, complete")
            with staged.open(out / "b.csv") as handle:
                handle.write("half of b")
                raise RuntimeError("killed")
    assert [p.name for p in out.iterdir()] == ["a.jsonl"]
    assert (out / "a.jsonl").read_text() == "old a"
