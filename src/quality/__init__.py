"""Quality of samples: scores, dedup, language, the live monitor, error analysis."""
