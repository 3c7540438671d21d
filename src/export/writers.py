"""One writer per export format: JSONL per split, and the folders open trainers and the Hub read.

- record formats (a provider's JSONL, alpaca, sharegpt, mistral_instruct): `<name>[_<fmt>]_<split>.jsonl`
- trl: TRL conversational prompt/completion JSONL (`SFTTrainer` trains on the completion only)
- axolotl: alternating `messages` JSONL + `axolotl.yaml`, a `type: chat_template` datasets snippet
- llamafactory: `messages` JSONL + `dataset_info.json` (sharegpt formatting, OpenAI-style tags;
  every declared column exists in every row, so LLaMA-Factory never meets a KeyError)
- parquet: `<name>_<split>.parquet` with an explicit Arrow schema
- hf: `data/<split>-00000-of-00001.parquet` + README.md (the dataset card), ready to push

Every line of JSONL escapes U+2028, U+2029 and U+0085, which `str.splitlines()` would split on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from src.models import Example
from src.targets.formatter import FormatOptions, format_example

LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"})
HF_SHARD = "{split}-00000-of-00001.parquet"  # the Hub's split file naming (data/<split>-*.parquet)


def jsonl_line(record: dict) -> bytes:
    """One JSON line; raw line separators other than \\n are escaped (JSON allows it)."""
    text = orjson.dumps(record).decode()
    if "\u2028" in text or "\u2029" in text or "\u0085" in text:
        text = text.translate(LINE_BREAKS)
    return (text + "\n").encode()


@dataclass
class ExportSet:
    """What one export writes into its staging folder: relative paths and the records per split."""

    name: str
    folder: Path  # the staging folder being written
    final: Path  # where the folder will be once complete (for paths written into snippets)
    parts: dict[str, list[Example]]  # train/validation, or "all"
    options: FormatOptions
    files: dict[str, Path] = field(default_factory=dict)  # role -> path relative to the folder
    records: dict[str, list[dict]] = field(default_factory=dict)  # split -> records to validate
    sizes: dict[str, int] = field(default_factory=dict)  # split -> bytes written
    record_format: str = ""

    def split_name(self, key: str) -> str:
        return "train" if key == "all" else key

    def write(self, relative: str, data: bytes, role: str) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files[role] = Path(relative)
        return path


def write_jsonl(out: ExportSet, record_format: str, stem: str) -> None:
    """One JSONL file per split in `record_format`; keeps the records for validation."""
    out.record_format = record_format
    for key, examples in out.parts.items():
        records = [format_example(ex, record_format, out.options) for ex in examples]
        data = b"".join(map(jsonl_line, records))
        out.write(f"{stem}.jsonl" if key == "all" else f"{stem}_{key}.jsonl", data, key)
        out.records[key], out.sizes[key] = records, len(data)


def write_trl(out: ExportSet) -> None:
    write_jsonl(out, "trl", f"{out.name}_trl")


def write_axolotl(out: ExportSet) -> None:
    write_jsonl(out, "messages", f"{out.name}_axolotl")
    entry = {"ds_type": "json", "split": "train", "type": "chat_template",
             "field_messages": "messages",
             "message_property_mappings": {"role": "role", "content": "content"},
             "roles_to_train": ["assistant"]}
    train = out.files.get("train") or out.files["all"]
    snippet: dict[str, Any] = {"datasets": [{"path": str(out.final / train), **entry}]}
    if "validation" in out.files:
        snippet["test_datasets"] = [{"path": str(out.final / out.files["validation"]), **entry}]
        snippet["val_set_size"] = 0  # axolotl takes test_datasets or val_set_size, not both
    snippet["dataset_prepared_path"] = "last_run_prepared"
    text = ("# axolotl datasets section for this export (docs: dataset-formats/conversation).\n"
            "# Paste into your axolotl config; set base_model and chat_template yourself.\n"
            + yaml.safe_dump(snippet, sort_keys=False, allow_unicode=True))
    out.write("axolotl.yaml", text.encode(), "config")


LLAMAFACTORY_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                     "assistant_tag": "assistant", "system_tag": "system"}


def write_llamafactory(out: ExportSet) -> None:
    write_jsonl(out, "messages", out.name)
    info = {f"{out.name}_{out.split_name(key)}": {
        "file_name": str(out.files[key]), "formatting": "sharegpt",
        "columns": {"messages": "messages"}, "tags": dict(LLAMAFACTORY_TAGS)}
        for key in out.parts}
    out.write("dataset_info.json", (json.dumps(info, ensure_ascii=False, indent=2) + "\n").encode(),
              "dataset_info")


def _arrow_schema() -> Any:
    import pyarrow as pa  # heavy (~170 MB): imported only when Parquet is written

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema([("id", pa.string()), ("messages", pa.list_(message)),
                      ("source_file", pa.string()), ("location", pa.string()),
                      ("origin", pa.string()), ("mode", pa.string()),
                      ("topic_keywords", pa.list_(pa.string()))])


def _parquet_bytes(rows: list[dict]) -> bytes:
    import pyarrow as pa  # heavy: see _arrow_schema
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=_arrow_schema())
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _rows(out: ExportSet, key: str) -> list[dict]:
    records = [format_example(ex, "messages", out.options) for ex in out.parts[key]]
    out.records[key] = records
    return [{"id": ex.id, "messages": rec["messages"], "source_file": ex.source_file,
             "location": ex.location, "origin": ex.origin, "mode": ex.mode,
             "topic_keywords": list(ex.topic_keywords)}
            for ex, rec in zip(out.parts[key], records)]


def write_parquet(out: ExportSet) -> None:
    out.record_format = "messages"
    for key in out.parts:
        data = _parquet_bytes(_rows(out, key))
        out.write(f"{out.name}_{out.split_name(key)}.parquet", data, key)
        out.sizes[key] = len(data)


def write_hf(out: ExportSet, card: Callable[[list[str]], str]) -> None:
    """Parquet splits under data/ and README.md from `card(split names)`."""
    out.record_format = "messages"
    for key in out.parts:
        split = out.split_name(key)
        data = _parquet_bytes(_rows(out, key))
        out.write(f"data/{HF_SHARD.format(split=split)}", data, key)
        out.sizes[key] = len(data)
    out.write("README.md", card([out.split_name(k) for k in out.parts]).encode(), "card")


BUNDLES: dict[str, Callable[[ExportSet], None]] = {
    "trl": write_trl, "axolotl": write_axolotl, "llamafactory": write_llamafactory,
    "parquet": write_parquet}
