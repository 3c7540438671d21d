"""Small generic helpers (text, numbers) that several stages share; nothing product-specific."""
