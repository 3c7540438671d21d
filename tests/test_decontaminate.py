"""Decontamination against the user's evaluation sets: hits and misses, every file format, the
`generate` and `validate` flags, and bad evaluation files."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from src.main import main
from src.models import Example, Turn
from src.quality.decontaminate import find_hits, load_eval_sets, mark_contaminated
from tests.pipeline_helpers import SAMPLES, generate, stored, write_config

LONG_Q = "What documents does an international applicant need to submit for the autumn intake at Northwind?"
SHORT_Q = "When do applications for the spring intake close?"  # 8 words: checked whole
EVAL = [{"question": LONG_Q, "answer": "A passport, certificates and a statement of purpose."},
        {"question": SHORT_Q, "answer": "On 30 November."},
        {"question": "How many credits is the thesis module worth in the final year of the M.Tech?",
         "answer": "The thesis module is worth 24 credits and runs over both semesters of the year."},
        {"question": "Why?", "answer": "Because."}]


def sample(question: str, answer: str) -> Example:
    return Example(turns=[Turn("user", question), Turn("assistant", answer)], origin="synthetic")


def write_jsonl(path: Path, records: list[dict], bad_line: bool = False) -> Path:
    lines = [json.dumps(r) for r in records] + (["{not json"] if bad_line else [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_long_overlap_short_whole_record_and_near_duplicate_are_hits(tmp_path: Path) -> None:
    sets = load_eval_sets([write_jsonl(tmp_path / "eval.jsonl", EVAL)])
    copied = sample("Tell me: " + LONG_Q.lower(), "You need a passport.")
    short = sample(SHORT_Q, "They close on 30 November, as the calendar says.")
    paraphrase = sample("How many credits is the thesis module worth in the last year of M.Tech?",
                        "Its thesis module is worth 24 credits and runs over both the semesters of "
                        "the year.")  # no 13 words in a row in common; the answers are near duplicates
    same_topic = sample("Which documents should I bring to the visa interview?",
                        "Bring your passport, the admission letter and a bank statement.")
    generic = sample("Why?", "Because.")  # in the eval set, but too short to mean anything
    hits = dict((id(e), why) for e, why in find_hits([copied, short, paraphrase, same_topic, generic], sets))
    assert "13-word overlap with eval.jsonl line 1" in hits[id(copied)]
    assert "8-word overlap with eval.jsonl line 2" in hits[id(short)]
    assert "near duplicate" in hits[id(paraphrase)] and "eval.jsonl line 3" in hits[id(paraphrase)]
    assert id(same_topic) not in hits and id(generic) not in hits


def test_csv_and_parquet_records_are_read_and_bad_lines_reported(tmp_path: Path) -> None:
    csv_path = tmp_path / "eval.csv"
    csv_path.write_text("question,answer\n\"" + LONG_Q + "\",A passport.\n", encoding="utf-8")
    parquet_path = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"prompt": [EVAL[2]["question"]], "completion": [EVAL[2]["answer"]]}),
                   parquet_path)
    jsonl = write_jsonl(tmp_path / "more.jsonl", EVAL[1:2], bad_line=True)
    sets = load_eval_sets([csv_path, parquet_path, jsonl])
    assert [r.where for r in sets.records] == ["row 1", "row 2", "row 1", "line 1"]
    assert sets.skipped == ["more.jsonl line 2: Expecting property name enclosed in double quotes"]
    found = find_hits([sample(LONG_Q, "A passport."), sample(EVAL[2]["question"], "24 credits.")], sets)
    assert ["eval.csv row 2" in why for _, why in found] == [True, False]
    assert "eval.parquet row 1" in found[1][1]


def test_mark_contaminated_rejects_with_a_note() -> None:
    assert mark_contaminated([sample(LONG_Q, "x")], None) == 0  # no eval sets: nothing checked


def test_generate_rejects_a_verbatim_sample_that_is_in_the_eval_set(tmp_path: Path) -> None:
    evals = write_jsonl(tmp_path / "evals.jsonl", [
        {"prompt": "When is the application deadline for the autumn intake?",
         "completion": "Applications for the autumn intake close on 30 June."}])
    config = write_config(tmp_path, mode="identify", dataset_size=200, output_name="decon")
    code, result, err = generate(config, "--decontaminate", str(evals))
    assert code == 0, err
    assert result["summary"]["rejected_by_reason"] == {"contaminated": 1}
    assert "decontamination: 1 record(s) of 1 evaluation file(s) (evals.jsonl)" in err
    hit = [e for e in stored("decon") if e.reasons]
    assert len(hit) == 1 and hit[0].question == "When is the application deadline for the autumn intake?"
    assert any(n.startswith("contaminated: ") and "evals.jsonl line 1" in n for n in hit[0].notes)
    exported = Path(result["files"]["train"]).read_text(encoding="utf-8")
    assert "autumn intake close" not in exported


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_validate_decontaminate_lists_hits_and_fails(tmp_path: Path) -> None:
    dataset = tmp_path / "train.jsonl"
    dataset.write_text("\n".join(json.dumps({"messages": [
        {"role": "user", "content": q}, {"role": "assistant", "content": a}]})
        for q, a in [(LONG_Q, "You need a passport."), ("Is there a gym?", "Yes, near the hostel.")])
        + "\n", encoding="utf-8")
    evals = write_jsonl(tmp_path / "eval.jsonl", EVAL)
    code, out, _ = run_cli("validate", str(dataset), "--provider", "openai", "--model", "gpt-4o-mini",
                           "--decontaminate", str(evals), "--json")
    report = json.loads(out)["contamination"]
    assert code == 1
    assert (report["checked"], report["contaminated"]) == (2, 1)
    assert report["hits"][0]["location"] == "line 1"
    code, out, _ = run_cli("validate", str(dataset), "--provider", "openai", "--model", "gpt-4o-mini",
                           "--decontaminate", str(evals))
    assert "Decontamination: 1 of 2 examples overlap 4 evaluation record(s)" in out


def test_missing_or_unknown_eval_file_says_what_to_do(tmp_path: Path) -> None:
    dataset = tmp_path / "train.jsonl"
    dataset.write_text(json.dumps({"messages": [{"role": "user", "content": "q"},
                                                {"role": "assistant", "content": "a"}]}) + "\n")
    code, _, err = run_cli("validate", str(dataset), "--provider", "openai", "--model", "gpt-4o-mini",
                           "--decontaminate", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "nope.jsonl: no such file" in err
    (tmp_path / "eval.txt").write_text("hello")
    code, _, err = run_cli("validate", str(dataset), "--provider", "openai", "--model", "gpt-4o-mini",
                           "--decontaminate", str(tmp_path / "eval.txt"))
    assert code == 2 and "use JSONL, JSON, CSV/TSV or Parquet" in err
    config = write_config(tmp_path, mode="identify", output_name="decon")
    code, _, err = generate(config, "--decontaminate", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "nope.jsonl: no such file" in err
    assert SAMPLES.exists()
