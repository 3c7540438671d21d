"""Every format the formatter writes, checked by shape and by the providers' own libraries."""

from __future__ import annotations

import pytest

from src.errors import ConfigError
from src.models import Example, Turn
from src.targets import formatter


def example(turns: int = 1, system: str | None = "Answer from the context.") -> Example:
    pairs = [Turn("user", f"Question {i}?") if j == 0 else Turn("assistant", f"Answer {i}.")
             for i in range(turns) for j in range(2)]
    return Example(turns=pairs, system=system, context="Fees: ₹1,50,000", source_file="fees.pdf",
                   question_type="numbers and dates", persona="student",
                   topic_keywords=["fees", "Sharda University"])


def test_openai_mistral_llama_share_chat_messages():
    rec = formatter.format_example(example(), "openai")
    assert rec == {"messages": [{"role": "system", "content": "Answer from the context."},
                                {"role": "user", "content": "Question 0?"},
                                {"role": "assistant", "content": "Answer 0."}]}
    assert formatter.format_example(example(), "mistral") == rec == \
        formatter.format_example(example(), "llama")


def test_anthropic_puts_system_on_top_and_merges_same_role_turns():
    ex = Example(turns=[Turn("user", "a"), Turn("user", "b"), Turn("assistant", "c")], system="s")
    assert formatter.format_example(ex, "anthropic") == {
        "system": "s", "messages": [{"role": "user", "content": "a\n\nb"},
                                    {"role": "assistant", "content": "c"}]}
    assert "system" not in formatter.format_example(example(system=None), "anthropic")


def test_google_uses_system_instruction_contents_and_model_role():
    rec = formatter.format_example(example(2), "google")
    assert rec["systemInstruction"] == {"parts": [{"text": "Answer from the context."}]}
    assert [c["role"] for c in rec["contents"]] == ["user", "model", "user", "model"]
    assert rec["contents"][1]["parts"] == [{"text": "Answer 0."}]


def test_mistral_instruct_has_no_control_tokens_unless_asked():
    rec = formatter.format_example(example(), "mistral_instruct")
    assert (rec["instruction"], rec["input"], rec["output"]) == ("Question 0?", "", "Answer 0.")
    assert (rec["system"], rec["history"]) == ("Answer from the context.", [])
    assert (rec["context_source"], rec["question_type"], rec["persona"]) == \
        ("fees.pdf", "numbers and dates", "student")
    assert "domain_entity" in rec
    raw = formatter.FormatOptions(control_tokens=True)
    tokens = formatter.format_example(example(), "mistral_instruct", raw)
    assert tokens["instruction"] == "<s>[INST] Answer from the context.\n\nQuestion 0? [/INST]"
    multi = formatter.format_example(example(2, system=None), "mistral_instruct", raw)
    assert multi["instruction"] == "<s>[INST] Question 0? [/INST] Answer 0.</s>[INST] Question 1? [/INST]"
    assert multi["output"] == "Answer 1."
    assert formatter.detect_format(rec) == formatter.detect_format(tokens) == "mistral_instruct"


def test_alpaca_puts_the_question_in_the_prompt_and_history_on_every_row():
    alpaca = formatter.format_example(example(2), "alpaca")
    assert alpaca == {"instruction": "Question 1?", "input": "", "output": "Answer 1.",
                      "system": "Answer from the context.", "history": [["Question 0?", "Answer 0."]]}
    single = formatter.format_example(example(1, system=None), "alpaca")
    assert (single["history"], single["system"]) == ([], "")
    share = formatter.format_example(example(), "sharegpt")
    assert share["conversations"] == [{"from": "human", "value": "Question 0?"},
                                      {"from": "gpt", "value": "Answer 0."}]
    assert share["system"] == "Answer from the context."


def test_include_context_gives_the_passage_with_every_answer_cut_out():
    ex = Example(turns=[Turn("user", "What are the fees?"),
                        Turn("assistant", "The fees are ₹1,50,000 per year. Hostel is extra."),
                        Turn("user", "When are they due?"), Turn("assistant", "By 1 July.")],
                 context="Admissions open in May. The fees are ₹1,50,000 per year.\nHostel is "
                         "extra. Payment is due by 1 July. Late fees apply.")
    options = formatter.FormatOptions(include_context=True)
    rec = formatter.format_example(ex, "alpaca", options)
    assert rec["input"].startswith("Admissions open in May.")
    assert "₹1,50,000 per year" not in rec["input"] and "By 1 July" not in rec["input"]
    assert formatter.CUT in rec["input"]
    prompt = " ".join([rec["instruction"], rec["input"]])
    for answer in ("The fees are ₹1,50,000 per year. Hostel is extra.", "By 1 July."):
        assert not formatter.answer_in_prompt(answer, prompt)
    transcript = Example(turns=[Turn("user", "Q?"), Turn("assistant", "Only this turn.")],
                         context="Only this turn.")  # identify: the context is the answer turn
    assert formatter.format_example(transcript, "alpaca", options)["input"] == ""


def test_nova_records_follow_bedrock_conversation_2024():
    ex = Example(turns=[Turn("user", "a"), Turn("user", "b"), Turn("assistant", "c")], system="s")
    assert formatter.format_example(ex, "amazon") == {
        "schemaVersion": "bedrock-conversation-2024", "system": [{"text": "s"}],
        "messages": [{"role": "user", "content": [{"text": "a\n\nb"}]},
                     {"role": "assistant", "content": [{"text": "c"}]}]}
    assert "system" not in formatter.format_example(example(system=None), "amazon")


def test_trl_prompt_completion_and_merged_messages():
    rec = formatter.format_example(example(2), "trl")
    assert [m["role"] for m in rec["prompt"]] == ["system", "user", "assistant", "user"]
    assert rec["completion"] == [{"role": "assistant", "content": "Answer 1."}]
    assert formatter.format_example(example(), "together") == \
        formatter.format_example(example(), "fireworks") == formatter.format_example(
            example(), "messages")


@pytest.mark.parametrize("fmt", formatter.FORMATS)
def test_to_messages_reads_every_format_back(fmt):
    messages = formatter.to_messages(formatter.format_example(example(), fmt))
    assert messages[0] == {"role": "system", "content": "Answer from the context."}
    assert messages[-1]["role"] == "assistant" and messages[-1]["content"] == "Answer 0."
    assert "Question 0?" in messages[-2]["content"]


def test_unknown_format_and_native_names():
    with pytest.raises(ConfigError, match="choose one of"):
        formatter.format_example(example(), "csv")
    assert formatter.native_format("google") == "google"
    with pytest.raises(ConfigError):
        formatter.native_format("cohere")


def test_openai_lines_parse_with_the_openai_sdk_types():
    from openai.types.chat import ChatCompletionMessageParam  # a TypedDict union
    from pydantic import TypeAdapter

    adapter = TypeAdapter(list[ChatCompletionMessageParam])
    rec = formatter.format_example(example(2), "openai")
    assert adapter.validate_python(rec["messages"]) == rec["messages"]


def test_google_lines_parse_with_google_genai_types():
    from google.genai import types

    rec = formatter.format_example(example(2), "google")
    contents = [types.Content.model_validate(c) for c in rec["contents"]]
    system = types.Content.model_validate(rec["systemInstruction"])
    assert [c.role for c in contents] == ["user", "model", "user", "model"]
    assert system.parts[0].text == "Answer from the context."
    with pytest.raises(Exception):
        types.Content.model_validate({"role": "user", "parts": [{"txt": "typo"}]})


@pytest.mark.parametrize("turns,system", [(1, None), (2, "Be brief."), (3, "sys")])
def test_mistral_lines_pass_mistral_common_finetuning_validation(turns, system):
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    from src.targets.tokens import mistral_tokenizer

    rec = formatter.format_example(example(turns, system), "mistral")
    mistral_tokenizer("mistral_v3").encode_chat_completion(
        ChatCompletionRequest.from_openai(rec["messages"]))  # raises when invalid
