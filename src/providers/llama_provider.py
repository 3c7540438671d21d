"""Llama and any OpenAI-compatible endpoint (OpenRouter, Together, Groq, DigitalOcean, Ollama,
vLLM, LM Studio, llama.cpp server) through the `openai` SDK and a base URL ending in /v1."""

from __future__ import annotations

from src.providers.openai_provider import OpenAIProvider


class LlamaProvider(OpenAIProvider):
    name = "llama"
    key_env_var = "LLAMA_API_KEY"
    default_base_url = "https://openrouter.ai/api/v1"
