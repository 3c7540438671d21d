"""What real file systems hold (issue 21): names that are not UTF-8, links out of the input folder,
FIFOs, the same folder spelled differently. Each case is reproduced with `generate` or `ingest`."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.file_processor import read_input
from src.ingest.inputs import open_regular, walk
from src.main import main
from src.models import IngestFailure
from src.utils.text import printable_name
from tests.fake_llm_server import FakeLLMServer
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import SAMPLES, generate, point_env_at, stored, write_config

FAQ = "# FAQ\n\nQ: When does the library open?\nA: The library opens at 8 am on weekdays.\n\n" \
      "Q: Can I renew a book online?\nA: Yes, renew it online up to three times.\n"
SECRET = "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC private material"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeLLMServer(responder=grounded_responder) as fake:
        point_env_at(fake, monkeypatch)
        yield fake


def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "unzipped"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"caf\xe9_faq.md"), "w") as out:  # a Windows zip
        out.write(FAQ)
    code, result, err = generate(write_config(tmp_path, mode="identify",
                                              **{"input.directory": str(folder)}))
    assert code == 0 and result is not None, err
    assert {ex.source_file for ex in stored("pipe")} == {"caf\\xe9_faq.md"}
    assert result["counts"]["samples"] == 2 and "Internal error" not in err
    assert main(["ingest", str(folder), "--json"]) == 0


def test_printable_name_escapes_what_cannot_be_shown() -> None:
    assert printable_name("caf\udce9.md") == "caf\\xe9.md"
    assert printable_name("two\nlines.md") == "two\\nlines.md"
    assert printable_name("français 日本.md") == "français 日本.md"


def test_links_out_of_the_input_folder_are_not_followed_and_said(server: FakeLLMServer,
                                                               tmp_path: Path) -> None:
    folder, outside = tmp_path / "in", tmp_path / "private"
    shutil.copytree(SAMPLES, folder)
    outside.mkdir()
    (outside / "id_rsa.md").write_text(SECRET + "\n" * 2 + "More private text. " * 40)
    (folder / "notes.md").symlink_to(outside / "id_rsa.md")
    (folder / "keys").symlink_to(outside)
    (folder / "same_faq.md").symlink_to(folder / "admissions_faq.md")  # inside: read once
    code, result, err = generate(write_config(tmp_path, **{"input.directory": str(folder)}))
    assert code == 0 and result is not None, err
    skipped = {s["path"]: s["error"] for s in result["skipped"]}
    assert "outside the input folder" in skipped["notes.md"]
    assert "folder outside" in skipped["keys"] and "input.follow_symlinks" in skipped["keys"]
    assert "same_faq.md" not in skipped
    sent = " ".join(r.user + r.system for r in server.stats.received)
    assert "PRIVATE KEY" not in sent and server.stats.requests > 0
    assert str(tmp_path) not in sent  # names relative to the input folder, never absolute
    assert "admissions_faq.md" in sent


def test_follow_symlinks_reads_links_out_of_the_folder_under_their_own_name(tmp_path: Path) -> None:
    folder, outside = tmp_path / "in", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (outside / "faq.md").write_text(FAQ)
    (folder / "linked").symlink_to(outside)
    found = list(walk([folder], InputConfig(follow_symlinks=True)))
    assert [f.name for f in found] == ["linked/faq.md"]
    assert list(walk([folder], InputConfig()))[0].path == "linked"  # type: ignore[union-attr]


def test_a_folder_that_cannot_be_opened_is_reported(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root opens folders whatever their mode")
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    (folder / "faq.md").write_text(FAQ)
    (folder / "locked").chmod(0)
    try:
        found = list(walk([folder], InputConfig()))
    finally:
        (folder / "locked").chmod(0o755)
    assert isinstance(found[1], IngestFailure) and "none of its files were read" in found[1].reason


def test_a_fifo_in_place_of_a_file_is_refused_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "faq.md").write_text(FAQ)
    (found,) = list(walk([folder], InputConfig()))
    os.remove(folder / "faq.md")
    os.mkfifo(folder / "faq.md")  # swapped after the folder was listed
    started = time.monotonic()
    (result,) = list(read_input(found, InputConfig(), {}))  # type: ignore[arg-type]
    assert isinstance(result, IngestFailure) and "regular file" in result.reason
    with pytest.raises(InputFileError, match="named pipe"):
        open_regular(folder / "faq.md", "faq.md")  # the open itself never blocks either
    assert time.monotonic() - started < 5


def test_config_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    writer = threading.Timer(10, lambda: open(fifo, "w").close())  # frees a blocked reader
    writer.start()
    try:
        started = time.monotonic()
        assert main(["generate", "--config", str(fifo), "--yes"]) == 2
        assert time.monotonic() - started < 5
    finally:
        writer.cancel()
    assert "not a regular file" in capsys.readouterr().err


def test_the_same_folder_spelled_otherwise_is_the_same_input(server: FakeLLMServer,
                                                            tmp_path: Path) -> None:
    folder = tmp_path / "docs" / "in"
    shutil.copytree(SAMPLES, folder)
    (tmp_path / "link").symlink_to(folder)
    first = generate(write_config(tmp_path, **{"input.directory": str(folder)}))
    assert first[0] == 0, first[2]
    paid = server.stats.requests
    for n, spelled in enumerate([tmp_path / "link", tmp_path / "docs" / ".." / "docs" / "in"]):
        code, result, err = generate(write_config(tmp_path, output_name=f"again{n}",
                                                  **{"input.directory": str(spelled)}))
        assert code == 0 and result is not None, err
        assert result["requests"] == 0 and result["summary"]["cache_hits"] > 0  # nothing paid twice
    assert server.stats.requests == paid
    again = {(ex.source_file, ex.chunk_id) for ex in stored("again0")}
    assert again == {(ex.source_file, ex.chunk_id) for ex in stored("pipe")}
    assert json.dumps(first[1]).count(str(tmp_path)) == len(first[1]["files"])  # outputs only
