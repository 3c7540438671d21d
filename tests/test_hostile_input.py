"""Hostile input: bad files, a hostile config.yaml, escaping output names, formula cells.

Nothing may crash, hang or balloon in memory; every bad input is named with a reason and the good
documents still produce their samples. Hostile files are generated in tmp_path (plus a few real
ones copied from tests/data/corpus).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from src.config import PROJECT_ROOT
from tests.conftest import DATA
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    SAMPLES,
    cli_env,
    cli_output,
    generate,
    point_env_at,
    write_config,
)

CORPUS = DATA / "corpus"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
MAX_FILE_MB = 1
PEAK_RSS_MB = 600  # the good samples alone need ~150-250 MB; a decompressed bomb would not fit
BOMB_MB = 400
COPIED = {  # corpus file → why it is bad
    "pdf/password-example.pdf": "encrypted",
    "pdf/crazyones-encrypted-256.pdf": "encrypted",
    "docx/empty.docx": "empty",
    "csv/empty.csv": "empty",
    "other/fake.doc": "unsupported",
    "other/tests-example.xls": "unsupported",
}
ODD_FILES = ["pdf/malformed-from-issue-932.pdf", "txt/fake-text-utf-16-be.txt",
             "txt/fake-text-utf-32.txt", "md/umlauts-non-utf8.md", "csv/test_latin1.csv",
             "csv/test_mskanji.csv"]


def zip_bomb_docx(path: Path) -> None:
    """A DOCX whose document.xml inflates ~1000×: BOMB_MB of one repeated paragraph."""
    paragraph = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"><Override PartName="/word/'
                    'document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                    'wordprocessingml.document.main+xml"/></Types>')
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxml'
                         b'formats.org/wordprocessingml/2006/main"><w:body>')
            chunk = paragraph * 1000
            for _ in range(BOMB_MB * 1024 * 1024 // len(chunk)):
                member.write(chunk)
            member.write(b"</w:body></w:document>")


def hostile_folder(root: Path) -> dict[str, str]:
    """Good demo documents mixed with bad ones; returns {bad file name: kind}."""
    root.mkdir(parents=True)
    for sample in SAMPLES.iterdir():
        shutil.copy(sample, root / sample.name)
    bad = {}
    for relative, kind in COPIED.items():
        shutil.copy(CORPUS / relative, root / Path(relative).name)
        bad[Path(relative).name] = kind
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("   \n\n\t\n")
    (root / "picture.docx").write_bytes(PNG)
    (root / "picture.pdf").write_bytes(PNG)
    (root / "truncated.pdf").write_bytes((CORPUS / "pdf/test.pdf").read_bytes()[:3000])
    (root / "not_a_zip.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(2000))
    (root / "huge.pdf").write_bytes(b"%PDF-1.4 " + b"0" * (MAX_FILE_MB * 1_100_000))  # read whole
    zip_bomb_docx(root / "bomb.docx")
    bad.update({"empty.txt": "empty", "blank.md": "empty", "picture.docx": "mislabeled",
                "picture.pdf": "mislabeled", "truncated.pdf": "broken",
                "not_a_zip.xlsx": "broken", "huge.pdf": "huge", "bomb.docx": "zip bomb"})
    for relative in ODD_FILES:  # readable or refused; never a crash
        shutil.copy(CORPUS / relative, root / Path(relative).name)
    (root / "nul_bytes.txt").write_bytes(b"Question one?\x00\x00 Answer one.\n" * 20)
    (root / "bad_utf8.txt").write_bytes(b"Valid start. \xff\xfe\xc3\x28 broken \xed\xa0\x80 end.\n"
                                        * 20)
    return bad


# Runs `python -m src.main ...` and, at exit, writes the process's own peak RSS (VmHWM, which exec
# resets, unlike wait4's ru_maxrss that keeps the forking test process's high-water mark).
MEASURED_MAIN = """
import atexit, re, runpy, sys
out = sys.argv.pop(1)
def peak():
    status = open("/proc/self/status").read()
    open(out, "w").write(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
atexit.register(peak)
sys.argv[0] = "src.main"
runpy.run_module("src.main", run_name="__main__", alter_sys=True)
"""


def run_measured(args: list[str], env: dict[str, str], workdir: Path,
                 timeout: float = 120) -> tuple[int, int]:
    """Run `python -m src.main ARGS` to its end: (exit code, its own peak RSS in MB)."""
    peak_file = workdir / "peak_kb"
    with open(workdir / "run.out", "wb") as out, open(workdir / "run.err", "wb") as err:
        proc = subprocess.run([sys.executable, "-c", MEASURED_MAIN, str(peak_file), *args],
                              cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err, timeout=timeout)
    return proc.returncode, int(peak_file.read_text()) // 1024


@pytest.mark.slow
def test_hostile_folder_names_every_bad_file_and_keeps_the_good_ones(tmp_path: Path) -> None:
    bad = hostile_folder(tmp_path / "in")
    config = write_config(tmp_path, mode="identify", dataset_size=500, output_name="hostile",
                          **{"input.directory": str(tmp_path / "in"),
                             "input.max_file_mb": MAX_FILE_MB, "input.max_zip_ratio": 200})
    command = ["generate", "--config", str(config), "--yes", "--json"]
    code, peak_mb = run_measured(command, cli_env(tmp_path / "home"), tmp_path)
    result, err = cli_output(tmp_path)
    assert code == 0, err
    assert "Traceback" not in err and "Internal error" not in err
    skipped = {Path(s["path"]).name: s["error"] for s in result["skipped"]}
    missing = {name: kind for name, kind in bad.items() if name not in skipped}
    assert not missing, f"bad files not reported as skipped: {missing}"
    assert all(len(reason) > 15 for reason in skipped.values()), skipped
    assert all(name in err for name in bad)  # the user sees every skipped file by name
    assert peak_mb < PEAK_RSS_MB, f"peak memory {peak_mb} MB"
    print(f"hostile folder: {len(skipped)} skipped, peak RSS {peak_mb} MB")

    rows = list(csv.DictReader(open(result["files"]["csv"], encoding="utf-8")))
    sources = {Path(r["source_file"]).name for r in rows}
    assert {"admissions_faq.md", "student_helpdesk_chat.txt"} <= sources
    assert not sources & set(bad)


# ---------------------------------------------------------------- hostile config.yaml

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(8))
HOSTILE_CONFIGS = {
    "alias bomb": (ALIAS_BOMB, "alias"),
    "wrong types": ("dataset_size: many\nsplit: [1, 2]\nmode: 7\nsystem: {concurrency: -3}\n"
                    "budget_usd: {a: 1}\n", "dataset_size"),
    "python object tag": ("output_name: !!python/object/apply:os.system ['touch {marker}']\n",
                          "python/object"),
    "python name tag": ("mode: !!python/name:os.system\n", "python/name"),
    "not a mapping": ("- just\n- a list\n", "mapping"),
    "bad syntax": ("mode: [identify\nprovider: openai\n", "line"),
    "not utf-8": (b"mode: \xff\xfe identify\n", "UTF-8"),
}


@pytest.mark.parametrize("kind", HOSTILE_CONFIGS)
def test_hostile_config_exits_2_with_one_clear_message(kind: str, tmp_path: Path) -> None:
    text, expected = HOSTILE_CONFIGS[kind]
    marker = tmp_path / "pwned"
    config = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text.replace("{marker}", str(marker)))
    code, result, err = generate(config)
    assert code == 2 and result is not None and result["exit_code"] == 2  # --json: one object
    assert expected in err and str(config) in err
    assert "Traceback" not in err and "Internal error" not in err
    assert sum(line.startswith("Error:") for line in err.splitlines()) == 1, err
    assert len(err) < 2000, err
    assert not marker.exists()


# ---------------------------------------------------------------- output names

HOSTILE_NAMES = ["../escape", "../../escape2", "a/b/../../c", "..", "/abs/escape3",
                 "C:\\evil\\x", "na\u202eme\x00\n\tx", "CON", "ü名字 🚀", "-rf --yes", "."]


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_output_names_never_write_outside_output_datasets(tmp_path: Path) -> None:
    home = Path(os.environ["DATASET_BUILDER_HOME"])
    before = tree(tmp_path) - {p for p in tree(tmp_path) if p.startswith("home")}
    config = write_config(tmp_path, mode="identify", dataset_size=20,
                          **{"input.directory": str(SAMPLES / "admissions_faq.md")})
    codes = {}
    for name in HOSTILE_NAMES + [str(tmp_path / "abs_target")]:
        code, result, err = generate(config, "--output-name", name)
        codes[name] = code
        assert code in (0, 2), err
        assert "Traceback" not in err
        if code == 0:
            for path in result["files"].values():
                folder = Path(path).resolve().parent
                assert folder.parent == (home / "output_datasets").resolve(), (name, path)
    assert codes["../escape"] == 0 and codes["CON"] == 0
    after = tree(tmp_path) - {p for p in tree(tmp_path) if p.startswith("home")}
    assert after == before | {"config.yaml"}
    assert {p.name for p in home.iterdir()} <= {"memory", "output_datasets"}
    assert not Path("/abs/escape3").exists()


# ---------------------------------------------------------------- CSV formula cells

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "@SUM(1+1)", "+cmd|' /C calc'!A0",
            "-2+3"]


def formula_responder(request: FakeRequest) -> dict | str:
    """The grounded model, but its topic keywords are spreadsheet formulas."""
    reply = grounded_responder(request)
    for conv in reply.get("conversations", []) if isinstance(reply, dict) else []:
        conv["topic_keywords"] = list(FORMULAS)
    return reply


def test_formula_cells_are_escaped_in_the_metadata_csv(tmp_path, monkeypatch) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text('question,answer\n"=HYPERLINK(""http://evil.example"",""go"")",'
                   '"+SUM(A1:A9) is what the fee office charges each term."\n'
                   '"@SUM(1+1) when does the library open?","-2+3 it opens at nine."\n')
    with FakeLLMServer(responder=formula_responder) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(write_config(tmp_path, mode="hybrid", dataset_size=8,
                                                  **{"input.directory": str(tmp_path)}))
    assert code == 0, err
    rows = list(csv.reader(open(result["files"]["csv"], encoding="utf-8")))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert any(c.startswith("'=hyperlink") or c.startswith("'=HYPERLINK") for c in cells)
    jsonl = Path(result["files"]["train"]).read_text(encoding="utf-8")
    assert "=HYPERLINK(\\\"http://evil.example\\\",\\\"go\\\")" in jsonl  # data stays verbatim
