"""The spending cap of one LLM client: reserve before sending, settle on what was billed.

Before a request leaves, its worst case is reserved: the real token count of what is sent (the
agent model's tokenizer, never less than UTF-8 bytes / 3) plus `max_tokens`, at the run's price. A
request whose reservation would cross `budget_usd` (with everything spent and reserved in flight)
is not sent. When the reply comes, the reservation is released and the reply is charged at the
usage the server reports; where it reports none, or a negative or non-numeric count, our own count
of what was sent and received is charged instead, so a missing or hostile usage never widens the
budget. A server may still report more than the reservation (a proxy that ignores max_tokens, or a
bogus count): that is charged too, the run stops at the next request, and the message says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from src.errors import BudgetExhausted
from src.targets.tokens import count_text_tokens

BYTES_PER_TOKEN = 3  # the floor of a count: real tokenizers average ~4 bytes per token in English
MESSAGE_OVERHEAD_TOKENS = 16  # role markers and the reply priming of a two-message chat


def usd(amount: float) -> str:
    """Dollars as a person reads them: cents, or four decimals for fractions of a cent."""
    return f"${amount:,.2f}" if round(amount, 2) == amount else f"${amount:,.4f}"


def count_tokens(text: str, provider: str, model: str) -> int:
    """Tokens of `text` for budgeting: the agent model's tokenizer (exact, or an estimate with a
    margin), never less than UTF-8 bytes / 3 in case the model's real tokenizer is another one."""
    floor = math.ceil(len(text.encode("utf-8", "surrogatepass")) / BYTES_PER_TOKEN)
    return max(count_text_tokens(text, provider, model), floor)


def usage_count(reported: object) -> int | None:
    """A token count the server reported, or None when it is missing, negative or not a number."""
    if isinstance(reported, bool) or not isinstance(reported, (int, float)):
        return None
    if reported != reported or reported < 0 or reported == math.inf:
        return None
    return int(reported)


@dataclass
class Usage:
    """What one reply was charged: its tokens (the server's, or ours where it gave none) and cost."""

    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached_tokens: int = 0  # of input_tokens, read from the provider's prompt cache


class Budget:
    """Spent and reserved USD against the cap; `reserve` raises BudgetExhausted near the cap.
    An engine may put one shared by many clients in its place (src/engine/limits.py)."""

    def __init__(self, cap_usd: float):
        self.cap = cap_usd
        self.spent = 0.0
        self.reserved = 0.0
        self.overspend = ""  # why spending went past the cap, once it has

    def reserve(self, worst: float) -> None:
        """Book `worst` USD for a request about to be sent, or refuse it."""
        if self.spent + self.reserved + worst > self.cap:
            raise BudgetExhausted(self.refusal(worst))
        self.reserved += worst

    def release(self, worst: float) -> None:
        self.reserved = max(0.0, self.reserved - worst)

    def charge(self, usage: Usage, worst: float) -> None:
        """Add a settled reply (`worst` was its reservation); note it when spending crosses the
        cap, which only a reply billed beyond its reservation can do."""
        self.spent += usage.cost_usd
        if self.spent > self.cap and not self.overspend:
            self.overspend = (
                f"one reply was billed {usage.input_tokens:,} input + {usage.output_tokens:,} "
                f"output tokens (${usage.cost_usd:.4f}; at most ${worst:.4f} was expected from "
                "what was sent and max_tokens). Check the provider's usage page and that the base "
                "URL is the provider you meant")

    def refusal(self, worst: float) -> str:
        """The message of a request not sent because of the cap (true at the moment it is made)."""
        if self.overspend:
            return self.summary() + "."
        in_flight = f" and ${self.reserved:.4f} reserved by requests in flight" \
            if self.reserved else ""
        return (f"Budget reached: ${self.spent:.4f} spent{in_flight} of budget_usd "
                f"{usd(self.cap)}, and the next request could cost up to ${worst:.4f}, so it was "
                "not sent. The run keeps what it has; raise budget_usd in config.yaml and run "
                "again (answers already paid for are cached).")

    def summary(self) -> str:
        """Where spending stands now, for the end of a run that stopped at the budget."""
        if self.overspend:
            return (f"Budget exceeded: ${self.spent:.4f} spent of budget_usd {usd(self.cap)}: "
                    f"{self.overspend}; no further request was sent")
        return (f"Budget reached: ${self.spent:.4f} spent of budget_usd {usd(self.cap)}; raise "
                "budget_usd in config.yaml and run again (answers already paid for are cached)")
