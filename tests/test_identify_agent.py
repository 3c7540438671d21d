"""IdentifyAgent: stage 1 over many documents with config settings, stage 2 keeps verbatim turns only."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from src.agents.identify_agent import IdentifyAgent, ambiguous_passages
from src.config import PROJECT_ROOT, Config
from src.detect.lines import norm
from src.errors import BadReply
from tests.labelled_set import labels, load_case, text_doc

AMBIGUOUS = ("# Visitor information\n\nQ: Where is reception?\nA: In building A, ground floor.\n\n"
             "Is parking free for visitors?\n\nVisitors park free for two hours in the P2 car park.\n\n"
             "The canteen opens at 11:30.")


class FakeAgentClient:
    """Stand-in for the network LLMClient (its complete_json contract): records the request and
    replies with one conversation quoted verbatim and one whose answer was invented."""

    def __init__(self, reply: dict | None = None, error: Exception | None = None):
        self.calls: list[dict[str, Any]] = []
        self.error = error
        self.reply = reply if reply is not None else {"conversations": [
            {"turns": [{"role": "user", "text": "Is parking free for visitors?"},
                       {"role": "assistant",
                        "text": "Visitors park free for two hours in the P2   car park."}]},
            {"turns": [{"role": "user", "text": "The canteen opens at 11:30."},
                       {"role": "assistant", "text": "Lunch is served until 14:00."}]}]}

    async def complete_json(self, system: str, user: str, schema: dict, *, schema_name: str = "reply",
                            temperature: float = 0.7, max_tokens: int = 1024) -> SimpleNamespace:
        self.calls.append({"system": system, "user": user, "schema": schema,
                           "schema_name": schema_name, "temperature": temperature})
        if self.error:
            raise self.error
        return SimpleNamespace(data=self.reply)


def config(**identify: Any) -> Config:
    cfg = Config()
    for key, value in identify.items():
        setattr(cfg.agent.identify, key, value)
    return cfg


def test_stage1_runs_over_all_documents_without_a_key() -> None:
    names = sorted(labels())
    examples = IdentifyAgent(config()).run([load_case(n) for n in names])
    found = {(ex.source_file, norm(a.content), norm(b.content))
             for ex in examples for a, b in zip(ex.turns, ex.turns[1:]) if a.role == "user"}
    expected = {(str(load_case(n).path), norm(q), norm(a)) for n, p in labels().items() for q, a in p}
    assert found == expected
    assert {ex.origin for ex in examples} == {"extracted"}


def test_identical_pairs_within_a_document_are_kept_once() -> None:
    doc = text_doc("Q: Is it free?\nA: Yes.\n\nQ: Can I park?\nA: Yes, in P2.\n\n"
                   "Q: Is it free?\nA: Yes.", fmt="txt")
    agent = IdentifyAgent(config())
    assert [ex.question for ex in agent.run([doc])] == ["Is it free?", "Can I park?"]
    assert agent.stats["stage1_examples"] == 2


def test_min_turns_and_include_context_come_from_config() -> None:
    docs = [load_case("pos/05_library_qa.txt"), load_case("pos/11_user_assistant.txt")]
    examples = IdentifyAgent(config(min_turns=4, include_context=False)).run(docs)
    assert [len(ex.turns) for ex in examples] == [6]
    assert examples[0].context == ""


def test_ambiguous_passages_skip_what_stage1_claimed() -> None:
    doc = text_doc(AMBIGUOUS)
    claimed = [ex.span for ex in IdentifyAgent(config()).run([doc])]
    (span,) = ambiguous_passages(doc, claimed)
    assert doc.text[span[0]:span[1]].startswith("Is parking free for visitors?")
    assert "Where is reception" not in doc.text[span[0]:span[1]]


def test_stage2_keeps_only_turns_found_verbatim() -> None:
    doc = text_doc(AMBIGUOUS, path="visitors.md")
    client = FakeAgentClient()
    agent = IdentifyAgent(config(use_llm=True), client)
    examples = agent.run([doc])
    assert [(ex.question, ex.answer) for ex in examples] == [
        ("Where is reception?", "In building A, ground floor."),
        ("Is parking free for visitors?", "Visitors park free for two hours in the P2 car park.")]
    llm = examples[1]
    assert llm.span == (doc.text.index("Is parking"), doc.text.index(" car park.") + len(" car park."))
    assert (llm.origin, llm.mode, llm.location, llm.source_file) == ("extracted", "identify",
                                                                     "paragraph 3", "visitors.md")
    assert agent.stats["stage2_turns_dropped"] == 1  # the invented answer
    assert all(norm(t.content) in norm(doc.text) for ex in examples for t in ex.turns)
    (call,) = client.calls
    prompt = (PROJECT_ROOT / "prompts" / "system" / "identify_mode.txt").read_text().strip()
    assert (call["system"], call["temperature"]) == (prompt, 0)
    assert "Is parking free for visitors?" in call["user"] and "Where is reception" not in call["user"]


def test_stage2_inside_a_running_event_loop_is_awaitable() -> None:
    doc = text_doc(AMBIGUOUS)

    async def pipeline() -> list:
        result = IdentifyAgent(config(use_llm=True), FakeAgentClient()).run([doc])
        return await result if asyncio.iscoroutine(result) else result

    assert len(asyncio.run(pipeline())) == 2


def test_stage2_failures_keep_stage1_results() -> None:
    doc = text_doc(AMBIGUOUS)
    agent = IdentifyAgent(config(use_llm=True), FakeAgentClient(error=BadReply("not JSON")))
    assert [ex.question for ex in agent.run([doc])] == ["Where is reception?"]
    assert agent.stats["stage2_failures"] == 1


def test_stage2_off_never_calls_the_client() -> None:
    client = FakeAgentClient()
    IdentifyAgent(config(use_llm=False), client).run([text_doc(AMBIGUOUS)])
    assert client.calls == []
