"""LLM providers: target facts (catalog.py, targets.py) and agent backends (*_provider.py)."""
