"""Fine-tuning targets: the catalog of facts, record formats, token counting and validation."""
