"""Identify mode, stage 1: conversations already in a document, found by patterns (offline)."""
