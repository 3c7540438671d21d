"""The whole pipeline through `generate`, for every mode, against the fake provider server.

The real SDKs talk HTTP to tests/fake_llm_server.py; tests/grounded_responder.py answers like a model
that writes grounded Q&A. Assertions are on the command's JSON, the files it wrote, the SQLite rows
and the requests the server received.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from src.targets.validator import validate_file
from tests.fake_llm_server import FakeLLMServer
from tests.grounded_responder import SENTENCE, grounded_responder
from tests.pipeline_helpers import SAMPLES, generate, point_env_at, stored, write_config


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeLLMServer(responder=grounded_responder) as fake:
        point_env_at(fake, monkeypatch)
        yield fake


def grounded(answer: str, context: str) -> bool:
    """Every sentence of the answer occurs in the context (whitespace folded)."""
    flat = " ".join(context.split())
    return all(" ".join(s.split()) in flat for s in SENTENCE.split(answer))


def test_create_mode_end_to_end_then_resume_sends_nothing_new(server, tmp_path: Path) -> None:
    code, result, err = generate(write_config(tmp_path))
    assert code == 0, err
    assert result["counts"]["samples"] == 16
    assert (result["counts"]["train"], result["counts"]["validation"]) == (12, 4)
    assert result["requests"] == server.stats.requests > 0
    assert "Traceback" not in err
    for kind in ("train", "validation"):
        report = validate_file(result["files"][kind], "openai", "gpt-4o-mini", split=kind)
        assert report.ok, report.to_dict()
    rows = list(csv.DictReader(open(result["files"]["csv"], encoding="utf-8")))
    assert len(rows) == 16 and {r["origin"] for r in rows} == {"synthetic"}
    names = {p.name for p in SAMPLES.iterdir()}  # named relative to the input folder, never absolute
    assert all(r["source_file"] in names for r in rows)
    examples = stored("pipe")
    accepted = [e for e in examples if not e.reasons]
    assert len(accepted) == 16
    assert all(grounded(e.answer, e.context) for e in accepted)
    assert all(e.persona and e.question_type and e.chunk_id for e in accepted)

    sent = server.stats.requests
    code, again, err = generate(write_config(tmp_path))
    assert code == 0, err
    assert server.stats.requests == sent  # every paid answer came from the cache
    assert again["counts"]["samples"] == 16
    assert len(stored("pipe")) == len(examples)  # no duplicate rows


def test_create_spreads_over_every_input_file(server, tmp_path: Path) -> None:
    code, result, err = generate(write_config(tmp_path, dataset_size=7,
                                              **{"agent.create.questions_per_chunk": 1,
                                                 "quality.enabled": False}))
    assert code == 0, err
    sources = {e.source_file for e in stored("pipe") if not e.reasons}
    assert len(sources) == 7  # one pair from each of the seven sample files before going deeper


def test_hybrid_mixes_extracted_and_synthetic_without_near_duplicates(server, tmp_path) -> None:
    code, result, err = generate(write_config(tmp_path, mode="hybrid", dataset_size=20,
                                              **{"agent.hybrid.generation_ratio": 0.5}))
    assert code == 0, err
    accepted = [e for e in stored("pipe") if not e.reasons]
    origins = {e.origin for e in accepted}
    assert origins == {"extracted", "synthetic"}
    assert sum(e.origin == "extracted" for e in accepted) <= 10
    assert len(accepted) == result["counts"]["samples"] == 20
    step1 = [r for r in server.stats.received if "conversations" in str(r.schema)]
    assert any("already answer" in r.user for r in step1)  # created half told what exists


def test_free_mode_follows_the_prompt_file(server, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Write help-desk conversations for new students.")
    code, result, err = generate(write_config(tmp_path, mode="free", dataset_size=8,
                                              **{"agent.free.prompt_file": str(prompt)}))
    assert code == 0, err
    assert result["counts"]["samples"] == 8
    assert all("help-desk conversations" in r.system for r in server.stats.received)


def test_free_mode_without_instructions_and_yes_stops_with_a_clear_message(server, tmp_path) -> None:
    code, result, err = generate(write_config(tmp_path, mode="free",
                                              **{"agent.free.prompt_file": str(tmp_path / "no")}))
    assert code == 2 and result == {"error": result["error"], "exit_code": 2}
    assert "Free mode needs instructions" in err and server.stats.requests == 0


@pytest.mark.parametrize("agent, model", [("anthropic", "claude-haiku-4-5"),
                                          ("google", "gemini-2.5-flash"),
                                          ("mistral", "mistral-small-latest"),
                                          ("llama", "meta-llama/llama-3.1-8b-instruct")])
def test_same_job_through_every_agent_provider(server, tmp_path, agent: str, model: str) -> None:
    code, result, err = generate(write_config(tmp_path, dataset_size=4),
                                 "--agent-provider", agent, "--agent-model", model)
    assert code == 0, err
    assert result["counts"]["samples"] == 4
    wires = set(server.stats.by_wire)
    assert wires == {"anthropic" if agent == "anthropic" else
                     "gemini" if agent == "google" else "openai"}


def test_missing_key_exits_2_naming_the_variable_and_offline_options(tmp_path, monkeypatch) -> None:
    code, result, err = generate(write_config(tmp_path, mode="create"))
    assert code == 2
    assert "OPENAI_API_KEY" in err and "identify" in err


def test_identify_needs_no_key_and_keeps_text_verbatim(tmp_path: Path) -> None:
    code, result, err = generate(write_config(tmp_path, mode="identify", dataset_size=50))
    assert code == 0, err
    assert result["requests"] == 0 and result["counts"]["samples"] >= 10
    documents_text = " ".join(p.read_text(errors="ignore") for p in SAMPLES.glob("*.md"))
    faq = [e for e in stored("pipe") if e.source_file.endswith("admissions_faq.md")]
    assert faq and all(" ".join(e.answer.split()) in " ".join(documents_text.split())
                       for e in faq)


def test_multi_turn_conversations_when_configured(server, tmp_path: Path) -> None:
    code, result, err = generate(write_config(tmp_path, dataset_size=4,
                                              **{"agent.create.turns": 2}))
    assert code == 0, err
    accepted = [e for e in stored("pipe") if not e.reasons]
    assert len(accepted) == 4
    assert all([t.role for t in e.turns] == ["user", "assistant"] * 2 for e in accepted)
    assert all(grounded(t.content, e.context) for e in accepted for t in e.turns
               if t.role == "assistant")


def test_a_refused_key_stops_the_run_at_once(tmp_path: Path, monkeypatch) -> None:
    with FakeLLMServer(responder=grounded_responder, valid_keys={"sk-the-right-key"}) as fake:
        point_env_at(fake, monkeypatch)
        code, result, err = generate(write_config(tmp_path, dataset_size=40))
    assert code == 2 and result is not None and "OPENAI_API_KEY" in result["error"]
    assert "OPENAI_API_KEY" in err
    assert fake.stats.requests == 1  # the first request goes alone: nothing else was sent


def test_redaction_keeps_personal_data_away_from_the_agent(server, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "contacts.txt").write_text(
        "The admissions office answers questions about fees and visas every weekday. "
        "Write to the admissions team at admissions.office@example.edu for the forms. "
        "Call the helpline on +1 415 555 0100 between 9 am and 5 pm for urgent cases. "
        "The office is in room 204 of the main building, next to the library entrance.\n",
        encoding="utf-8")
    code, result, err = generate(write_config(tmp_path, dataset_size=2, **{
        "input.directory": str(docs), "privacy.redact_pii": True, "quality.enabled": False}))
    assert code == 0, err
    assert "redacted 1 email, 1 phone" in err
    sent = " ".join(r.user + r.system for r in server.stats.received)
    assert "admissions.office@example.edu" not in sent and "555 0100" not in sent
    assert "[EMAIL]" in sent
    assert all("@example.edu" not in e.context for e in stored("pipe"))


def test_an_encrypted_pdf_is_read_with_a_password_given_for_this_run_only(tmp_path: Path) -> None:
    from tests.conftest import DATA

    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = DATA / "corpus" / "pdf" / "crazyones-encrypted-256.pdf"
    (docs / pdf.name).write_bytes(pdf.read_bytes())
    config = write_config(tmp_path, mode="identify", **{"input.directory": str(docs)})
    code, result, err = generate(config)
    assert code == 2 and "is password-protected" in err and "--password" in err
    code, result, err = generate(config, "--password", f"{pdf.name}=password")
    assert "password-protected" not in err and "Read 1 document(s); skipped 0." in err


def test_same_named_files_in_different_folders_keep_their_own_samples(server, tmp_path) -> None:
    docs = tmp_path / "docs"
    for folder, fact in (("a", "The north gate opens at 7 am for students."),
                         ("b", "The south library closes at 11 pm during exams.")):
        (docs / folder).mkdir(parents=True)
        (docs / folder / "faq.txt").write_text(
            f"{fact} Visitors must sign in at the front desk of the building. "
            "Lost cards are replaced at the registrar's office within two working days.\n")
    code, result, err = generate(write_config(tmp_path, dataset_size=2, **{
        "input.directory": str(docs), "quality.enabled": False, "chunking.min_chunk_tokens": 5,
        "agent.create.questions_per_chunk": 1}))
    assert code == 0, err
    sources = sorted(e.source_file for e in stored("pipe") if not e.reasons)
    assert len(sources) == 2 and sources[0] != sources[1]
    assert {s.split("/")[-2] for s in sources} == {"a", "b"}


def test_documents_too_short_to_chunk_say_which_setting_to_change(server, tmp_path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("Gate opens at 7 am.\n")
    code, result, err = generate(write_config(tmp_path, **{"input.directory": str(docs)}))
    assert code == 2 and "chunking.min_chunk_tokens (40)" in err and server.stats.requests == 0


def test_the_plan_warns_before_the_run_when_the_size_is_below_the_targets_minimum(tmp_path) -> None:
    from src.config import load_config
    from src.pipeline.plan import prepare

    config = load_config(write_config(tmp_path, mode="identify", provider="anthropic",
                                      model="claude-3-haiku", dataset_size=10))
    assert any("32" in message for message in prepare(config).messages)


def test_every_example_that_breaks_a_target_rule_is_rejected_not_only_the_first_200() -> None:
    from types import SimpleNamespace

    from src.config import Config
    from src.models import Example, Turn
    from src.pipeline.finish import _validate

    examples = [Example(turns=[Turn("user", f"Question {i}?"), Turn("assistant", "   ")])
                for i in range(250)]
    rejected, _ = _validate(SimpleNamespace(config=Config(), fmt="mistral"), examples)
    assert len(rejected) == 250


def test_identify_with_the_llm_stage_keeps_only_what_the_documents_say(server, tmp_path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "campus.txt").write_text(
        "Q: Where is the library?\nA: Next to the north gate, open 8 am to 10 pm.\n\n"
        "Can I bring my bicycle to campus? Bicycles are allowed and can be parked at the racks "
        "beside the north gate.\n", encoding="utf-8")
    settings = {"input.directory": str(docs)}
    code, plain, err = generate(write_config(tmp_path, mode="identify", output_name="plain",
                                             **settings))
    assert code == 0 and server.stats.requests == 0, err
    code, result, err = generate(write_config(tmp_path, mode="identify", **settings,
                                              **{"agent.identify.use_llm": True}))
    assert code == 0, err
    assert server.stats.requests > 0  # the unpatterned question went to the agent
    # the fake agent answers with invented turns ("text 0"): none of them may be kept
    assert all("text 0" not in e.text for e in stored("pipe"))
    assert result["counts"]["samples"] == plain["counts"]["samples"] == 1
