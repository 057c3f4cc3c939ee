"""A loaded Sigma rule's cache key: what its conversion depends on in its content (see `rules.load_content`).

Its own module because the compiler reads it and the loader writes it, and the loader's content hands
out the compiler."""

from __future__ import annotations

#: The attribute of a loaded rule holding its key.
_KEY = "_tunnelhunt_key"


def set_rule_key(rule: object, key: str) -> None:
    setattr(rule, _KEY, key)


def rule_key(rule: object) -> str | None:
    """What a loaded rule's conversion depends on in its content (None for a rule built in memory)."""
    key = getattr(rule, _KEY, None)
    return key if isinstance(key, str) else None
