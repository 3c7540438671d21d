"""Each trainer/Hub format read back by the library that consumes it, and the answer never in the prompt.

Parquet and the hf folder go through pyarrow and `datasets.load_dataset`; dataset_info.json is
checked against LLaMA-Factory's documented keys and the rules its loader applies (every declared
column in every row; sharegpt turns alternating user/assistant after an optional system); the
axolotl snippet against its documented `chat_template` keys; TRL's prompt/completion shape.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from src.config import BUNDLE_FORMATS, RECORD_FORMATS, db_path
from src.export.exporter import export_dataset
from src.main import main
from src.persistence.sqlite_client import Database
from src.targets.formatter import answer_in_prompt
from tests.export_helpers import examples, store

# LLaMA-Factory data/README.md (hiyouga/LLaMA-Factory @ ff6d4d12): the keys of one entry
LLAMAFACTORY_KEYS = {"hf_hub_url", "ms_hub_url", "script_url", "cloud_file_name", "file_name",
                     "formatting", "ranking", "subset", "split", "folder", "num_samples",
                     "columns", "tags"}
LLAMAFACTORY_COLUMNS = {"prompt", "query", "response", "history", "messages", "system", "tools",
                        "images", "videos", "audios", "chosen", "rejected", "kto_tag"}
LLAMAFACTORY_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag",
                     "function_tag", "system_tag"}
# axolotl src/axolotl/utils/schemas/datasets.py (@ 067b021c): keys a chat_template entry may use
AXOLOTL_KEYS = {"path", "ds_type", "split", "type", "field_messages", "message_property_mappings",
                "roles_to_train", "train_on_eos", "data_files", "roles", "field_tools"}
# the Hub's dataset-card spec (hub-docs datasetcard.md): front-matter keys
CARD_KEYS = {"language", "license", "license_name", "license_link", "tags", "annotations_creators",
             "language_creators", "language_details", "pretty_name", "size_categories",
             "source_datasets", "task_categories", "task_ids", "paperswithcode_id", "configs",
             "dataset_info"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """`datasets` must read local files without asking any server."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
            raise OSError(f"test tried to reach {host}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def export(fmt: str, n: int = 20, **kwargs: object):
    store("handbook", examples(n))
    with Database(db_path()) as db:
        return export_dataset("handbook", db, fmt=fmt, **kwargs)


def load(kind: str, files: dict[str, str] | str, tmp_path: Path):
    import datasets  # heavy: only these tests read files back with it

    if not kind:  # a folder: README configs say which files make which split
        return datasets.load_dataset(str(files), cache_dir=str(tmp_path / "cache"))
    return datasets.load_dataset(kind, data_files=files, cache_dir=str(tmp_path / "cache"))


def test_parquet_reads_back_with_pyarrow_and_datasets(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    result = export("parquet")
    assert result.valid and result.folder.name == "parquet"
    table = pq.read_table(result.files["train"])
    assert table.num_rows == 16 and table.schema.field("messages").type.value_type.num_fields == 2
    ds = load("parquet", {"train": str(result.files["train"]),
                          "validation": str(result.files["validation"])}, tmp_path)
    assert (ds["train"].num_rows, ds["validation"].num_rows) == (16, 4)
    row = ds["validation"][0]
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant", "user",
                                                    "assistant"]
    assert row["source_file"] == "handbook0.pdf" and row["topic_keywords"][0] == "fees"


def test_hf_folder_loads_as_a_dataset_with_a_card_the_hub_reads(tmp_path: Path) -> None:
    result = export("hf")
    folder = result.folder
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "README.md", "data/train-00000-of-00001.parquet", "data/validation-00000-of-00001.parquet"]
    ds = load("", str(folder), tmp_path)
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 16, "validation": 4}
    text = (folder / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---\n")[1])
    assert set(header) <= CARD_KEYS
    assert header["size_categories"] == ["n<1K"] and "synthetic" in header["tags"]
    assert header["language"] == ["en"] and header["license"] == "unknown"
    assert header["configs"][0]["config_name"] == "default"
    assert "generator model `openai/gpt-4o-mini`" in text and "secret-pass" not in text
    assert "| samples | 20 |" in text


def test_llamafactory_description_matches_its_loader(tmp_path: Path) -> None:
    result = export("llamafactory")
    info = json.loads(result.files["dataset_info"].read_text(encoding="utf-8"))
    assert set(info) == {"handbook_train", "handbook_validation"}
    for entry in info.values():
        assert set(entry) <= LLAMAFACTORY_KEYS and entry["formatting"] in ("alpaca", "sharegpt")
        assert set(entry["columns"]) <= LLAMAFACTORY_COLUMNS
        assert set(entry["tags"]) <= LLAMAFACTORY_TAGS
        data = result.folder / entry["file_name"]  # file_name is relative to dataset_dir
        rows = load("json", str(data), tmp_path)["train"]
        tags = entry["tags"]
        for row in rows:
            for column in entry["columns"].values():
                assert column in row  # a declared column missing from a row is a KeyError
            turns = row[entry["columns"]["messages"]]
            if turns[0][tags["role_tag"]] == tags["system_tag"]:
                turns = turns[1:]
            roles = [t[tags["role_tag"]] for t in turns]
            # the sharegpt converter skips rows that are odd-length or do not alternate
            assert len(roles) % 2 == 0
            assert roles == [tags["user_tag"], tags["assistant_tag"]] * (len(roles) // 2)


def test_axolotl_snippet_points_at_the_files(tmp_path: Path) -> None:
    result = export("axolotl")
    config = yaml.safe_load(result.files["config"].read_text(encoding="utf-8"))
    assert config["val_set_size"] == 0  # test_datasets and val_set_size exclude each other
    for key, entries in (("train", config["datasets"]), ("validation", config["test_datasets"])):
        (entry,) = entries
        assert set(entry) <= AXOLOTL_KEYS and entry["type"] == "chat_template"
        assert Path(entry["path"]) == result.files[key] and Path(entry["path"]).is_file()
        rows = load("json", entry["path"], tmp_path)["train"]
        assert all(entry["field_messages"] in row for row in rows)
        mapping = entry["message_property_mappings"]
        assert {m[mapping["role"]] for row in rows for m in row["messages"]} == {
            "system", "user", "assistant"}


def test_trl_prompt_completion_reads_back(tmp_path: Path) -> None:
    result = export("trl")
    rows = load("json", str(result.files["train"]), tmp_path)["train"]
    assert set(rows.column_names) == {"prompt", "completion"}
    for row in rows:
        assert [m["role"] for m in row["completion"]] == ["assistant"]
        assert row["prompt"][-1]["role"] == "user"


def _prompt_and_answer(record: dict) -> tuple[str, str]:
    """What a trainer feeds as the prompt, and the answer it trains on, for any export record."""
    if "instruction" in record:
        history = " ".join(f"{q} {a}" for q, a in record.get("history") or [])
        parts = [record.get("system") or "", history, record["instruction"], record["input"]]
        return " ".join(parts), record["output"]
    if "prompt" in record:
        return " ".join(m["content"] for m in record["prompt"]), record["completion"][0]["content"]
    from src.targets.formatter import to_messages

    messages = to_messages(record)
    return " ".join(m["content"] for m in messages[:-1]), messages[-1]["content"]


@pytest.mark.parametrize("include_context", [False, True])
@pytest.mark.parametrize("fmt", [*RECORD_FORMATS, *BUNDLE_FORMATS])
def test_the_answer_is_never_inside_the_prompt(fmt: str, include_context: bool) -> None:
    # every sample's context holds its answers word for word (as identify and create produce)
    result = export(fmt, n=12, include_context=include_context)
    checked = 0
    for key in ("train", "validation"):
        path = result.files[key]
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            records = [{"messages": r["messages"]} for r in pq.read_table(path).to_pylist()]
        else:
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for record in records:
            prompt, answer = _prompt_and_answer(record)
            assert answer and not answer_in_prompt(answer, prompt), (fmt, record)
            checked += 1
    assert checked == 12


def test_line_separators_are_escaped_for_splitlines_readers() -> None:
    items = examples(4, split_every=None)
    items[0].turns[1].content = "First line\u2028second\u0085third\u2029end."
    store("handbook", items)
    with Database(db_path()) as db:
        for fmt in ("native", "alpaca", "trl", "llamafactory"):
            result = export_dataset("handbook", db, fmt=fmt)
            text = result.files["all"].read_text(encoding="utf-8")
            assert len(text.splitlines()) == 4, fmt  # str.splitlines() splits on U+2028 too
            assert any("First line\u2028second\u0085third\u2029end." in json.dumps(
                json.loads(line), ensure_ascii=False) for line in text.splitlines())


def test_another_format_never_replaces_the_datasets_own_files(capsys) -> None:
    store("handbook", examples(40), provider="anthropic", model="claude-3-haiku")
    assert main(["export", "handbook"]) == 0  # own format: Bedrock Claude
    folder = db_path().parent.parent / "output_datasets" / "handbook"
    own = (folder / "handbook_train.jsonl").read_bytes()
    capsys.readouterr()
    assert main(["export", "handbook", "--format", "google", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"]["train"] == str(folder / "google" / "handbook_google_train.jsonl")
    assert report["checked_against"] == "google/gemini-2.5-flash"
    assert (folder / "handbook_train.jsonl").read_bytes() == own
    assert main(["validate", str(folder / "handbook_train.jsonl"), "--provider", "anthropic",
                 "--model", "claude-3-haiku"]) == 0
    assert main(["export", "handbook", "--format", "hf"]) == 0
    assert (folder / "google" / "handbook_google_train.jsonl").is_file()  # kept beside hf/
    assert (folder / "handbook_train.jsonl").read_bytes() == own


def test_an_export_too_small_for_its_target_says_so(capsys) -> None:
    store("handbook", examples(12, split_every=None), provider="anthropic", model="claude-3-haiku")
    assert main(["export", "handbook"]) == 1  # written, but Bedrock needs 32 examples
    captured = capsys.readouterr()
    err = captured.err + captured.out
    assert "NOT valid for anthropic/anthropic.claude-3-haiku-20240307-v1:0:200k" in err
    assert "needs at least 32" in err and "The files were written" in err


def test_an_export_for_nova_is_checked_against_nova(capsys) -> None:
    items = examples(12, split_every=None)
    items[3].turns[1].content = "User: the fee is due in May."  # a reserved Nova keyword
    store("handbook", items)
    assert main(["export", "handbook", "--format", "amazon", "--model", "nova-micro",
                 "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["checked_against"] == "amazon/amazon.nova-micro-v1:0:128k"
    assert report["validation"]["all"]["error_counts"] == {"reserved": 1}
    assert any("line 4" in p and "User:" in p for p in report["problems"])
