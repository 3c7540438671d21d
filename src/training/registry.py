"""Provider name -> trainer class; which targets cannot be trained here, and why."""

from __future__ import annotations

from src.config import Config
from src.errors import UsageError
from src.training.base import Trainer
from src.training.bedrock_trainer import BedrockTrainer
from src.training.fireworks_trainer import FireworksTrainer
from src.training.openai_trainer import OpenAITrainer
from src.training.together_trainer import TogetherTrainer
from src.training.vertex_trainer import VertexTrainer

TRAINERS: dict[str, type[Trainer]] = {
    "openai": OpenAITrainer, "together": TogetherTrainer, "fireworks": FireworksTrainer,
    "google": VertexTrainer, "amazon": BedrockTrainer}
NOT_HERE = {
    "anthropic": "Claude 3 Haiku fine-tuning on Amazon Bedrock has shut down; train Amazon Nova "
                 "instead (--provider amazon)",
    "mistral": "Mistral's fine-tuning API is deprecated; train an open model on Together or "
               "Fireworks (--provider together|fireworks), or export for mistral-finetune",
    "llama": "the `llama` target is the generic Llama format; train Llama on a host "
             "(--provider together|fireworks)",
}


def trainer_class(provider: str) -> type[Trainer]:
    """The trainer for a provider; UsageError saying what to use instead for the others."""
    if provider in TRAINERS:
        return TRAINERS[provider]
    why = NOT_HERE.get(provider, f"{provider!r} is not a provider")
    raise UsageError(f"`train` cannot start a job for {provider}: {why}. Providers with jobs: "
                     f"{', '.join(TRAINERS)}.")


def trainer_for(provider: str, config: Config) -> Trainer:
    return trainer_class(provider)(config)
