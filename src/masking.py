"""Secrets kept out of everything we print, log or store: one place that knows what a secret is.

Secrets live only in the environment (`.env` is loaded into it). Any value of a variable named
*_API_KEY, *_TOKEN, *_SECRET or an AWS key pair (*_ACCESS_KEY_ID, *_SECRET_ACCESS_KEY; 6 characters
or more) is masked wherever text leaves the process, and so is the password of a URL held in a
*_URL variable (a base URL may carry `user:pass@`). Independently, the `user:password@` part of
any URL in any text is masked (`mask_secrets`).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
SECRET_NAME_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_ACCESS_KEY_ID", "_SECRET_ACCESS_KEY")
URL_NAME_SUFFIXES = ("_URL",)  # e.g. LLAMA_BASE_URL=http://user:pass@host/v1: the password is secret
SECRET_KEY_SUFFIXES = ("_key", "_token", "_secret", "password")  # config keys never stored
MIN_SECRET_CHARS = 6  # shorter values would mask ordinary words
# scheme://user[:password]@ in running text (a URL quoted in an error message, a stored base URL)
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^\s/?#@\"'<>]+@", re.I)


def secret_values() -> list[str]:
    """Every secret currently in the environment (keys, and passwords of URLs)."""
    found = []
    for name, value in os.environ.items():
        if name.endswith(SECRET_NAME_SUFFIXES):
            found.append(value)
        elif name.endswith(URL_NAME_SUFFIXES) and "@" in value:
            found += _url_secrets(value)
    return [value for value in found if len(value) >= MIN_SECRET_CHARS]


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        return [p for p in (parts.password, f"{parts.username}:{parts.password}") if p]
    except ValueError:  # not a URL after all
        return []


def mask_secrets(text: str, secrets: list[str] | None = None) -> str:
    """The text with every secret of the environment (or `secrets`) and every URL's
    user:password part replaced by ***."""
    for secret in secret_values() if secrets is None else secrets:
        text = text.replace(secret, MASK)
    if "://" in text and "@" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return text


def mask_url(url: str) -> str:
    """A URL without its user:password part (a base URL may carry credentials)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def scrub_secrets(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of config-like data without secrets: *_key/*_token keys dropped, values masked."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, dict):
        return {k: scrub_secrets(v, secrets) for k, v in value.items()
                if not str(k).lower().endswith(SECRET_KEY_SUFFIXES)}
    if isinstance(value, (list, tuple)):
        return [scrub_secrets(v, secrets) for v in value]
    if isinstance(value, str):
        return mask_secrets(value, secrets)
    return value
