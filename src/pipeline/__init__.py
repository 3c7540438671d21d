"""The stages wired together: plan (free) → run (paid) → processor (per batch) → finish (whole set)."""
