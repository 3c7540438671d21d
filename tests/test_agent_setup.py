"""What a newcomer meets choosing an agent and reading the results (issue 22 #2, #5, #7, #9): the
README's local-server path, a price for any model (or a refusal that says how to set one), the menu's
base URL and size re-cap, hybrid's real mix and estimate, the system prompt, messages without
internal tags."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from src.config import load_config
from src.export.splitter import split
from src.models import Example, Turn
from src.pipeline.plan import prepare
from src.targets.catalog import validate_dataset_size
from src.utils.text import strip_source_tags
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    FAST_LIMITS,
    generate,
    point_env_at,
    stored,
    write_config,
    write_documents,
)
from tests.test_menu import DEMO_CONFIG, ROOT, drive

PROVIDER_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLAMA_API_KEY", "LLAMA_BASE_URL")


@pytest.fixture(name="config_file")
def config_file_fixture(tmp_path: Path) -> Path:
    """The menu tests' config.yaml (identify mode over demo/samples)."""
    path = tmp_path / "config.yaml"
    path.write_text(DEMO_CONFIG.replace("{input}", str(ROOT / "demo" / "samples")), "utf-8")
    return path


def only_llama_at(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, key: str = "") -> None:
    """The README's local-server path: LLAMA_BASE_URL (and perhaps LLAMA_API_KEY), nothing else."""
    for name in PROVIDER_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLAMA_BASE_URL", server.base_url("llama"))
    if key:
        monkeypatch.setenv("LLAMA_API_KEY", key)


@pytest.mark.parametrize("key", ["", "sk-llama-local-1234"])
def test_llama_base_url_alone_selects_llama_and_names_the_missing_flag(key, tmp_path, monkeypatch):
    with FakeLLMServer(responder=grounded_responder) as server:
        only_llama_at(server, monkeypatch, key)
        config = write_config(tmp_path, dataset_size=4, **{"system.rate_limit": FAST_LIMITS})
        code, result, err = generate(config)  # config.yaml still says openai / gpt-4o-mini
        assert code == 2 and server.stats.requests == 0
        assert "LLAMA_BASE_URL is set" in err and "--agent-model NAME" in err
        assert "No API key for openai" not in err
        code, result, err = generate(config, "--agent-model", "llama3.1:8b")
    assert code == 0, err
    assert {r.model for r in server.stats.received} == {"llama3.1:8b"}
    assert "Agent LLM: llama/llama3.1:8b at http://127.0.0.1" in err
    assert "free: a server on this machine" in result["summary"]["agent_price"]


def test_a_hosted_model_without_a_price_refuses_before_reading_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("LLAMA_API_KEY", "sk-or-0123456789")
    monkeypatch.setenv("LLAMA_BASE_URL", "https://openrouter.example/api/v1")
    config = write_config(tmp_path, **{"system.agentic_llm": "llama",
                                       "system.agentic_model": "qwen/qwen-2.5-72b-instruct",
                                       "input.directory": str(tmp_path / "not-read")})
    code, result, err = generate(config)
    assert code == 2
    assert "No price is known for the agent model llama/qwen/qwen-2.5-72b-instruct" in err
    assert "agent_price: {input_per_million:" in err and "does not exist" not in err


def test_an_explicit_price_is_used_shown_and_stops_the_run_at_the_budget(tmp_path, monkeypatch):
    with FakeLLMServer(responder=grounded_responder) as server:
        point_env_at(server, monkeypatch)
        config = write_config(tmp_path, dataset_size=200, budget_usd=0.08, **{
            "system.agentic_model": "my-private-model", "system.concurrency": 2,
            "system.rate_limit": FAST_LIMITS,
            "system.agent_price": {"input_per_million": 3.0, "output_per_million": 12.0}})
        plan = prepare(load_config(config))
        code, result, err = generate(config)
    assert "system.agent_price in config.yaml" in plan.estimate.describe()
    billed = (server.stats.billed_input_tokens * 3 + server.stats.billed_output_tokens * 12) / 1e6
    assert code == 0, err
    assert result["cost_usd"] == pytest.approx(billed, rel=1e-6) and 0 < billed <= 0.08
    assert result["stopped_reason"].startswith("Budget reached: $")
    assert "Agent price: $3 in / $12 out per 1M tokens (system.agent_price" in err


# ------------------------------------------------------------------ the menu (22 #5, #9)

def test_the_menu_shows_and_asks_for_the_base_url_and_suggests_a_model(monkeypatch, capsys,
                                                                       config_file):
    from src.config import AGENT_PROVIDERS
    llama = str(AGENT_PROVIDERS.index("llama") + 1)
    answers = ["1", "6", llama, "http://user:pw@127.0.0.1:11434/v1",  # a password: refused
               "http://127.0.0.1:11434/v1", "",  # the suggested model
               "8", "9", "6"]
    _, err, script = drive(monkeypatch, capsys, answers, config_file)
    assert any("Base URL for llama" in p for p in script.prompts)
    assert "belongs in .env" in err
    assert any("Agent model name at llama [llama3.1:8b]" in p for p in script.prompts)
    saved = load_config(config_file)
    assert saved.system.agentic_llm == "llama" and saved.system.agentic_model == "llama3.1:8b"
    assert saved.system.base_urls == {"llama": "http://127.0.0.1:11434/v1"}


def test_the_menu_shows_an_environment_base_url_instead_of_asking(monkeypatch, capsys,
                                                                   config_file):
    from src.config import AGENT_PROVIDERS
    monkeypatch.setenv("LLAMA_BASE_URL", "http://me:secret-pw@10.1.2.3:8080/v1")
    answers = ["1", "6", str(AGENT_PROVIDERS.index("llama") + 1), "local-model", "9", "6"]
    _, err, script = drive(monkeypatch, capsys, answers, config_file)
    assert "Base URL: http://***@10.1.2.3:8080/v1 (from LLAMA_BASE_URL" in err
    assert "secret-pw" not in err and not any("Base URL for" in p for p in script.prompts)


def test_changing_the_target_recaps_the_size(monkeypatch, capsys, config_file):
    from src.targets import catalog
    anthropic = str(catalog.providers_open_first().index("anthropic") + 1)
    answers = ["1", "3", "50000", "1", anthropic, "1", "9", "6"]
    _, err, _ = drive(monkeypatch, capsys, answers, config_file)
    cap = validate_dataset_size(50_000, "anthropic", "claude-3-haiku-20240307")
    assert cap.capped and strip_source_tags(cap.message) in err  # said once the target changed
    assert load_config(config_file).dataset_size == 100  # not saved: the session's size is
    assert "Not saved to config.yaml: provider, model, dataset_size" in err


# ------------------------------------------------------------------ hybrid (22 #7)

def test_hybrid_says_identify_found_nothing_and_its_estimate_matches_the_run(tmp_path,
                                                                           monkeypatch):
    docs = tmp_path / "docs"
    write_documents(docs, files=5, paragraphs=2, sentences=6, seed=3)  # prose: no Q&A to find
    stamps: list[float] = []

    def timed(request: FakeRequest) -> dict | str:
        stamps.append(time.monotonic())
        return grounded_responder(request)
    config = write_config(tmp_path, mode="hybrid", dataset_size=20, **{
        "input.directory": str(docs), "agent.hybrid.generation_ratio": 0.5,
        "system.concurrency": 128,
        "system.rate_limit": {"requests_per_minute": 600, "tokens_per_minute": 10**9}})
    with FakeLLMServer(responder=timed) as server:
        point_env_at(server, monkeypatch)
        warm = tmp_path / "warm"  # other documents: nothing of the run below is cached
        write_documents(warm, files=3, paragraphs=2, sentences=6, seed=9)
        code, _, err = generate(config, "--output-name", "warm-up", "--input", str(warm))
        assert code == 0, err  # the server's pace is learned
        stamps.clear()
        plan = prepare(load_config(config))
        code, result, err = generate(config)
    assert code == 0, err
    note = "hybrid: identify found no conversations in the documents (its share is 10), so 20 " \
           "of the 20 samples will be created instead of 10."
    assert note in plan.messages and note in result["warnings"]
    assert result["summary"]["mix"] == {"identified": 0, "created": 20}
    assert "Mix: 0 identified + 20 created." in err
    estimate, real = plan.estimate, len(stamps)
    assert abs(estimate.requests - real) <= 0.25 * real, (estimate.requests, real)
    span = stamps[-1] - stamps[0]  # the paid part: first request to last
    assert abs(estimate.seconds - span) <= 0.25 * span, (estimate.seconds, span)


# ------------------------------------------------------------------ smaller (22 #9)

def test_the_system_prompt_setting_is_written_into_new_samples(tmp_path, monkeypatch):
    prompt = "You are the Northwind helpdesk. Answer briefly."
    with FakeLLMServer(responder=grounded_responder) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(write_config(tmp_path, dataset_size=4, **{
            "output.system_prompt": prompt, "system.rate_limit": FAST_LIMITS}))
    assert code == 0, err
    assert {ex.system for ex in stored("pipe") if not ex.reasons} == {prompt}
    first = Path(result["files"]["train"]).read_text().splitlines()[0]
    assert f'{{"role":"system","content":"{prompt}"}}' in first


def test_no_internal_source_tag_reaches_the_user(tmp_path):
    code, result, err = generate(write_config(tmp_path, mode="identify", dataset_size=3))
    assert code == 0, err
    assert "[O7" not in err and "[A1]" not in err and "[M1]" not in err
    assert not any("[O" in w or "[A1]" in w for w in result["warnings"])
    assert "needs at least 10" in err  # the message itself is still there


def test_the_split_note_says_groups_were_pooled_when_all_were():
    examples = [Example([Turn("user", f"Q{i}?"), Turn("assistant", f"A{i}.")], id=str(i),
                        source_file=f"file{i}.md") for i in range(3)]
    notes = split(examples, 0.9, "weighted", "source", 1).notes
    assert any("every group was too small to split in proportion, so all were pooled" in n
               for n in notes), notes
    assert not any("each group was kept in both splits" in n for n in notes)


def test_default_target_is_open_weights_llama():
    from src.config import Config
    from src.targets import catalog
    config = Config()
    assert (config.provider, config.model) == ("llama", "llama-3.1-8b")
    assert catalog.lifecycle_warning(config.provider, config.model) in ("", None)
    assert load_config(Path(__file__).resolve().parent.parent / "config.yaml").model == \
        "llama-3.1-8b"


def test_claude_token_totals_are_labelled_estimates_everywhere(tmp_path):
    from tests.test_run_bookkeeping import command
    config = write_config(tmp_path, mode="identify", provider="anthropic", model="claude-3-haiku",
                          dataset_size=40, output_name="claude")
    code, result, err = generate(config)
    assert code == 0, err
    assert result["summary"]["tokens_exact"] is False
    assert f"Tokens: ~{result['tokens']:,} (estimate" in err
    code, out, _ = command("stats", "claude")
    assert "Tokens (estimates: estimate (cl100k_base x1.2" in out
    code, out, err = command("list")
    assert f"~{result['tokens']:,}" in out and "~ marks token totals that are estimates" in err
    code, out, _ = command("list", "--json")
    assert '"tokens_exact": false' in out


def test_the_demo_has_one_file_per_format_and_reads_its_pdf(tmp_path):
    from src.ingest.file_processor import iter_documents
    from tests.pipeline_helpers import SAMPLES
    formats = {d.format for d in iter_documents([SAMPLES]) if hasattr(d, "format")}
    assert {"pdf", "docx", "xlsx", "pptx", "csv", "md", "txt"} <= formats
    code, result, err = generate(write_config(tmp_path, mode="identify", dataset_size=100))
    assert code == 0, err
    assert any(ex.source_file.endswith("library_guide.pdf") for ex in stored("pipe"))
