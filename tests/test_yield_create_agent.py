"""Create mode's one request per chunk pass (issue 20): how many questions a passage gets, how a
reply's conversations are matched to what was asked, the passage as the identical prefix of every
pass (prompt caching, charged at the cached price), and replies written the way real models write
them (numbered from 0 or not at all, delimiters and labels echoed) still giving clean pairs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from src.agents.create_agent import (
    MAX_PASSES,
    CreateAgent,
    Slot,
    chunk_capacity,
    facts_in,
    matched,
    passage_prefix,
    questions_for,
)
from src.config import Config, load_config
from src.models import Chunk, Example
from src.providers.llm_client import LLMClient
from src.quality.scores import score_examples
from tests.fake_llm_server import FakeLLMServer, FakeRequest, approx_tokens
from tests.grounded_responder import RealisticResponder
from tests.pipeline_helpers import FAST_LIMITS, point_env_at, write_config

MANUAL = (
    "The Lumo Max4 robot vacuum weighs 23.6 kg and measures 72 x 31 x 91 cm. "
    "The Lumo Max4 is rated IP55, so it can be used in bathrooms. "
    "Its pump, the HX-2210, moves 40 litres of water per minute. "
    "A full charge of the Lumo Max4 takes 3 hours on the supplied dock. "
    "The warranty on the Lumo Max4 is 24 months from the date of purchase. "
    "In Eco mode the Lumo Max4 uses 32 W, and 931 W at full power. "
    "The noise level of the Lumo Max4 at full power is 62 dB, measured at 1 metre. "
    "Spare drain hoses for the Lumo Max4 stay available for at least 5 years. "
    "The child lock of the Lumo Max4 is switched on by holding Start for 3 seconds. "
    "Returns are free within 60 days if the Lumo Max4 is unused and in its original box."
)


def chunk(text: str = MANUAL, name: str = "lumo_max4.md", index: int = 0) -> Chunk:
    return Chunk(id=f"{name}#{index}", source_file=name, text=text, location="section 1",
                 tokens=approx_tokens(text), index=index)


def items(*numbers: object) -> list[dict]:
    return [{"n": n, "tag": i} for i, n in enumerate(numbers)]


def tags(found: list[tuple[int, dict]]) -> list[tuple[int, int]]:
    """(position asked, which item of the reply) pairs."""
    return [(position, item["tag"]) for position, item in found]


# ------------------------------------------------------------------ matched()

def test_numbers_from_one_as_asked_map_to_their_positions_whatever_the_order() -> None:
    assert tags(matched(items(1, 2, 3), 3)) == [(0, 0), (1, 1), (2, 2)]
    assert tags(matched(items(3, 1, 2), 3)) == [(0, 1), (1, 2), (2, 0)]
    assert tags(matched(items(3, 1), 3)) == [(0, 1), (2, 0)]  # fewer than asked: those it has


def test_numbers_from_zero_are_read_as_positions() -> None:
    assert tags(matched(items(0, 1, 2), 3)) == [(0, 0), (1, 1), (2, 2)]
    assert tags(matched(items(2, 0), 3)) == [(0, 1), (2, 0)]


@pytest.mark.parametrize("numbers", [
    (1, 1, 1),  # every conversation numbered 1
    (2, 2, 5),  # repeated and out of range
    (None, None, None),  # no number at all
    ("1", "2", "3"),  # numbers as text
    (7, 8, 9),  # all out of range
    (0, 3, 1),  # from 0 but 3 is past the end, from 1 but 0 is before the start
    (True, 2, 3),  # a boolean is no number
    (1.0, 2.0, 3.0),  # floats are no index
])
def test_numbers_that_do_not_fit_fall_back_to_the_order_of_the_reply(numbers: tuple) -> None:
    assert tags(matched(items(*numbers), 3)) == [(0, 0), (1, 1), (2, 2)]


def test_items_missing_their_number_fall_back_to_order() -> None:
    reply = [{"n": 2, "tag": 0}, {"tag": 1}]  # one numbered, one not
    assert tags(matched(reply, 3)) == [(0, 0), (1, 1)]


def test_items_beyond_the_count_are_dropped() -> None:
    assert tags(matched(items(1, 2, 3, 4, 5), 3)) == [(0, 0), (1, 1), (2, 2)]
    assert tags(matched(items(None, None, None, None), 2)) == [(0, 0), (1, 1)]


def test_non_dict_items_are_ignored_and_do_not_take_a_position() -> None:
    reply = ["a stray string", {"n": 1, "tag": 0}, None, 42, {"n": 2, "tag": 1}, ["x"]]
    assert tags(matched(reply, 2)) == [(0, 0), (1, 1)]
    assert matched(["only", "junk", None], 3) == []
    assert matched([], 3) == []


def test_positions_are_distinct_and_within_the_count_for_any_reply() -> None:
    for numbers in [(1, 2), (0, 1), (5, 5, 5, 5), (2, 0, 1, 9), (3, 2, 1)]:
        found = matched(items(*numbers), 3)
        positions = [p for p, _ in found]
        assert len(set(positions)) == len(positions) and all(0 <= p < 3 for p in positions)


# ------------------------------------------------------------------ how many questions

def test_facts_count_sentences_that_state_something() -> None:
    assert facts_in(MANUAL) == 10
    assert facts_in("Yes. No. It is so. Fine.") == 0  # no sentence has 4 content words
    assert facts_in("Lumo Max4 vacuum weighs 23.6 kg.\nHX-2210 pump moves forty litres.") == 2


def test_a_short_passage_gets_one_question_per_request() -> None:
    short = chunk("The Lumo Max4 robot vacuum weighs 23.6 kg.")
    assert questions_for(short, 12) == 1
    assert chunk_capacity(short, 12) == MAX_PASSES
    empty = chunk("Yes. No.")
    assert questions_for(empty, 12) == 1  # at least one


def test_questions_spread_the_passage_over_the_passes() -> None:
    assert questions_for(chunk(), 12) == 4  # ceil(10 facts / 3 passes)
    assert chunk_capacity(chunk(), 12) == 4 * MAX_PASSES


def test_a_long_passage_is_capped_at_most() -> None:
    long = chunk(" ".join(f"The Lumo Max{n} robot vacuum weighs {n + 10} kg." for n in range(60)))
    assert facts_in(long.text) == 60
    assert questions_for(long, 12) == 12
    assert questions_for(long, 5) == 5
    assert questions_for(long, 40) == 20
    assert chunk_capacity(long, 12) == 12 * MAX_PASSES


# ------------------------------------------------------------------ the request

def create_config(tmp_path: Path, **overrides: object) -> Config:
    return load_config(write_config(tmp_path, **{"system.rate_limit": FAST_LIMITS, **overrides}))


def test_every_pass_over_a_chunk_starts_with_the_same_text(tmp_path: Path) -> None:
    config = create_config(tmp_path)
    agent = CreateAgent(config, client=None)
    prefix = passage_prefix(chunk())
    assert prefix.startswith("PASSAGE") and MANUAL in prefix
    requests = [agent.request(Slot(chunk(), p)) for p in range(MAX_PASSES)]
    assert len({r.system for r in requests}) == 1
    assert all(r.user.startswith(prefix) for r in requests)
    assert len({r.user for r in requests}) == MAX_PASSES  # each pass asks something new
    assert all(r.asked == questions_for(chunk(), config.agent.create.questions_per_chunk)
               for r in requests)
    hybrid = CreateAgent(config, client=None, mode="hybrid")
    avoided = hybrid.request(Slot(chunk(), 1, avoid=("How heavy is the Lumo Max4?",)))
    assert avoided.user.startswith(prefix) and "How heavy is the Lumo Max4?" in avoided.user
    other = agent.request(Slot(chunk(MANUAL.replace("23.6", "24.1"), index=1), 0))
    assert not other.user.startswith(prefix)  # another passage, another prefix


# provider, model, (input, cached, output) USD per 1M tokens from src/providers/prices.py's table
CACHED_PRICES = [("openai", "gpt-4o-mini", (0.15, 0.075, 0.60)),
                 ("anthropic", "claude-haiku-4-5", (1.00, 0.10, 5.00)),
                 ("google", "gemini-2.5-flash", (0.30, 0.075, 2.50))]


@pytest.mark.parametrize("provider, model, price", CACHED_PRICES)
def test_the_repeated_prefix_is_read_from_the_providers_cache_at_its_price(
        provider: str, model: str, price: tuple[float, float, float], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = create_config(tmp_path, **{"system.concurrency": 1, "system.agentic_llm": provider,
                                        "system.agentic_model": model})
    slots = [Slot(chunk(), p) for p in range(MAX_PASSES)]
    with FakeLLMServer(responder=RealisticResponder(), prompt_cache_min_tokens=64) as server:
        point_env_at(server, monkeypatch)
        output, totals = asyncio.run(run_agent(config, slots))
    assert not output.failures and len(output.examples) == 4 * MAX_PASSES
    system = CreateAgent(config, client=None).system
    shared = approx_tokens(system + passage_prefix(chunk()))
    stats = server.stats
    assert stats.requests == MAX_PASSES and set(stats.by_wire) == {
        {"openai": "openai", "anthropic": "anthropic", "google": "gemini"}[provider]}
    assert stats.cached_input_tokens >= (MAX_PASSES - 1) * shared  # passes 2 and 3 hit the cache
    assert totals["cached_input_tokens"] == stats.cached_input_tokens
    assert totals["input_tokens"] == stats.billed_input_tokens  # cached ones included (Anthropic too)
    plain, cached, out = price
    expected = ((stats.billed_input_tokens - stats.cached_input_tokens) * plain
                + stats.cached_input_tokens * cached + stats.billed_output_tokens * out) / 1e6
    assert totals["cost_usd"] == pytest.approx(expected, rel=1e-9)
    uncached = (stats.billed_input_tokens * plain + stats.billed_output_tokens * out) / 1e6
    assert totals["cost_usd"] < uncached


# ------------------------------------------------------------------ replies as real models write them

async def run_agent(config: Config, slots: list[Slot]):
    client = LLMClient(config, None)
    try:
        output = await CreateAgent(config, client).run(slots)
        return output, client.totals
    finally:
        await client.aclose()


def sentences_of(text: str) -> set[str]:
    return {s.strip() for s in text.replace(". ", ".\n").splitlines()}


def assert_clean_grounded(examples: list[Example], text: str) -> None:
    passage = sentences_of(text)
    for ex in examples:
        answer = ex.turns[1].content
        assert '"""' not in answer and not answer.lower().startswith(("answer:", "a:")), answer
        assert sentences_of(answer) <= passage, answer  # verbatim sentences of the passage, no more
        assert ex.turns[0].content.startswith("What does the guide say about")


@pytest.mark.parametrize("habit", ["from_zero", "unnumbered", "delimiters", "labels"])
def test_a_models_habits_still_give_every_pair_asked_for(
        habit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = create_config(tmp_path)
    slots = [Slot(chunk(), p) for p in range(MAX_PASSES)]
    responder = RealisticResponder(**{habit: 1.0})
    with FakeLLMServer(responder=responder) as server:
        point_env_at(server, monkeypatch)
        output, _ = asyncio.run(run_agent(config, slots))
    asked = questions_for(chunk(), config.agent.create.questions_per_chunk)
    assert not output.failures
    assert len(output.examples) == asked * MAX_PASSES
    assert len({ex.id for ex in output.examples}) == len(output.examples)
    assert all(ex.reasons == [] for ex in output.examples)
    # the reply was really written that way (the habit is not a no-op of the fake)
    replies = [responder(r) for r in server.stats.received]
    raw_answers = [t["answer"] for r in replies for c in r["conversations"] for t in c["turns"]]
    numbers = [c["n"] for r in replies for c in r["conversations"]]
    seen = {"from_zero": 0 in numbers, "unnumbered": set(numbers) == {1},
            "delimiters": all(a.startswith('"""') for a in raw_answers),
            "labels": all(a.startswith("Answer: ") for a in raw_answers)}
    assert seen[habit]
    assert_clean_grounded(output.examples, MANUAL)
    scored = score_examples(output.examples, config.quality)
    assert [ex.reasons for ex in scored] == [[]] * len(scored), [ex.notes for ex in scored]
    # each asked persona and question type lands on its own conversation, in the order asked
    first = [ex for ex in output.examples if ex.chunk_id == chunk().id][:asked]
    assert [ex.question for ex in first] == [
        c["turns"][0]["question"] for c in replies[0]["conversations"]]


def test_fewer_conversations_than_asked_keeps_those_returned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = create_config(tmp_path)
    responder = RealisticResponder(fewer=1.0, from_zero=0.5, delimiters=0.5, labels=0.5, seed=3)
    with FakeLLMServer(responder=responder) as server:
        point_env_at(server, monkeypatch)
        output, _ = asyncio.run(run_agent(config, [Slot(chunk(), 0)]))
        returned = len(responder(server.stats.received[0])["conversations"])
    assert 1 <= returned < questions_for(chunk(), 12)
    assert len(output.examples) == returned and not output.failures
    assert all(not ex.reasons for ex in output.examples)
    assert_clean_grounded(output.examples, MANUAL)



def without_numbers(request: FakeRequest) -> dict | str:
    """The grounded model, numbering nothing: its conversations carry no `n` at all."""
    reply = RealisticResponder()(request)
    for conv in reply.get("conversations", []) if isinstance(reply, dict) else []:
        conv.pop("n", None)
    return reply


def test_a_model_that_numbers_nothing_keeps_its_pairs(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = create_config(tmp_path)
    with FakeLLMServer(responder=without_numbers) as server:
        point_env_at(server, monkeypatch)
        output, _ = asyncio.run(run_agent(config, [Slot(chunk(), 0)]))
        sent = server.stats.requests
    assert not output.failures and sent == 1
    assert len(output.examples) == questions_for(chunk(), 12)
    assert all(not ex.reasons for ex in output.examples)
