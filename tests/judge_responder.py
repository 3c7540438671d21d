"""A fake agent LLM that also judges (for the LLM-judge tests): grounded Q&A as in
grounded_responder, and verdicts computed from the passage it is sent.

Its verdict on a conversation: supported and answerable when every sentence of the answer occurs
in the passage, standalone unless the question says "the guide", complete always. `reject` makes it
call one conversation number per request unsupported (a judge stricter than the offline checks);
`number_from` and `drop` imitate models that number from 0 or return fewer verdicts.
"""

from __future__ import annotations

import re

from tests.fake_llm_server import FakeRequest
from tests.grounded_responder import PASSAGE, SENTENCE, grounded_responder

CONVERSATION = re.compile(r"### Conversation (\d+)\n(.*?)(?=\n\n### Conversation |\Z)", re.S)


def is_judge_request(request: FakeRequest) -> bool:
    return "verdicts" in (request.schema or {}).get("properties", {})


def verdicts(request: FakeRequest, reject: int | None = None) -> list[dict]:
    found = PASSAGE.search(request.user)
    flat = " ".join((found.group(1) if found else "").split())
    out = []
    for number, body in CONVERSATION.findall(request.user):
        lines = body.split("\n")
        question = next(line[6:] for line in lines if line.startswith("User: "))
        answers = [line[11:] for line in lines if line.startswith("Assistant: ")]
        grounded = all(" ".join(s.split()) in flat for a in answers for s in SENTENCE.split(a))
        if reject is not None and int(number) == reject:
            grounded = False
        out.append({"index": int(number), "answerable": grounded, "supported": grounded,
                    "standalone": "the guide" not in question.lower(), "complete": True,
                    "rationale": "Every sentence is in the passage." if grounded
                    else "The answer adds a statement the passage does not make."})
    return out


def judging_responder(reject: int | None = None, number_from: int = 1, drop: int = 0):
    """A responder for FakeLLMServer: judges verdict requests, writes grounded Q&A otherwise."""
    def respond(request: FakeRequest) -> dict:
        if not is_judge_request(request):
            return grounded_responder(request)
        found = verdicts(request, reject)
        for verdict in found:
            verdict["index"] += number_from - 1
        return {"verdicts": found[:len(found) - drop] if drop else found}
    return respond
