"""What each chat-shaped record format allows, as data: roles, keys, order, weights.

The validator applies these; a difference between targets is a row here, not a branch there.
Source tags resolve in `catalog.SOURCES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatRules:
    """What one chat-shaped format allows; differences between targets live here as data."""

    top_keys: frozenset[str]
    list_key: str
    roles: frozenset[str]
    message_keys: frozenset[str]
    role_key: str = "role"
    content_key: str = "content"
    assistant: str = "assistant"
    user: str = "user"
    weight: bool = True
    alternate: bool = False  # no two consecutive messages with the same role
    first_role: tuple[str, ...] | None = None  # allowed roles of the first non-system message
    last_role: str | None = None
    system_only_first: bool = False
    max_system: int | None = None
    min_messages: int = 1


_F = frozenset
RULES: dict[str, ChatRules] = {
    "openai": ChatRules(_F({"messages", "tools", "parallel_tool_calls", "functions"}), "messages",
                        _F({"system", "user", "assistant", "tool", "function"}),
                        _F({"role", "content", "name", "weight", "tool_calls", "tool_call_id",
                            "function_call"})),  # [O6][O7]
    "mistral": ChatRules(_F({"messages", "tools"}), "messages",
                         _F({"system", "user", "assistant", "tool"}),
                         _F({"role", "content", "name", "weight", "tool_calls", "tool_call_id"}),
                         last_role="assistant", max_system=1),  # [M1][M2][M4]
    "llama": ChatRules(_F({"messages"}), "messages", _F({"system", "user", "assistant"}),
                       _F({"role", "content", "weight"}), alternate=True, first_role=("user",),
                       system_only_first=True),  # Together SDK checks + docs, Fireworks [T1][T2][F1]
    # a top-level `weight` (non-negative loss multiplier) is allowed in every Together format [T4]
    "together": ChatRules(_F({"messages", "weight"}), "messages", _F({"system", "user", "assistant"}),
                          _F({"role", "content", "weight"}), alternate=True, first_role=("user",),
                          system_only_first=True),  # [T1][T2][T4]
    "fireworks": ChatRules(_F({"messages"}), "messages", _F({"system", "user", "assistant"}),
                           _F({"role", "content", "weight"}), first_role=("user",),
                           system_only_first=True),  # system first only, weight 0/1 [F1]
    # alternating chat inside bundle exports: LLaMA-Factory skips rows that do not alternate [P1]
    "messages": ChatRules(_F({"messages"}), "messages", _F({"system", "user", "assistant"}),
                          _F({"role", "content"}), weight=False, alternate=True,
                          first_role=("user",), last_role="assistant", system_only_first=True),
    "anthropic": ChatRules(_F({"system", "messages"}), "messages", _F({"user", "assistant"}),
                           _F({"role", "content"}), weight=False, alternate=True,
                           first_role=("user",), last_role="assistant", min_messages=2),  # [A1][A2]
    "sharegpt": ChatRules(_F({"conversations", "system", "tools"}), "conversations",
                          _F({"human", "gpt", "observation", "function_call"}), _F({"from", "value"}),
                          role_key="from", content_key="value", assistant="gpt", user="human",
                          weight=False, alternate=True, first_role=("human",), last_role="gpt"),  # [P1]
}
PAIR_KEYS = {"alpaca": _F({"instruction", "input", "output", "system", "history"}),
             "mistral_instruct": _F({"instruction", "input", "output", "system", "history",
                                     "context_source", "question_type", "persona",
                                     "domain_entity", "topic_keywords"})}
ANSWER_MIN_WORDS = 3  # shorter answers ("Yes.") may appear in a question by chance
MISTRAL_ORDER = {"system": {"user", "assistant", "system"}, "user": {"assistant", "system", "user"},
                 "assistant": {"assistant", "user", "tool"}, "tool": {"assistant", "tool", "user"}}
