"""Turning prompt text into words, stable seeds and keyword scores.

Everything visual or musical the local provider derives from a prompt goes through
here, so the same prompt and seed always give the same output: hashes are
``blake2b`` (Python's ``hash()`` is salted per process).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


def words_of(text: str | None) -> tuple[str, ...]:
    """Lower-case words with a crude plural strip, so "mountains" matches "mountain"."""
    words = []
    for word in _WORD.findall((text or "").lower()):
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return tuple(words)


def stable_int(*parts: object) -> int:
    """A 63-bit integer that depends only on ``parts`` (their ``repr``)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def rng_for(*parts: object) -> np.random.Generator:
    return np.random.default_rng(stable_int(*parts))


def unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1)."""
    return stable_int(*parts) / float(1 << 63)


def score(words: Iterable[str], vocabulary: frozenset[str]) -> int:
    return sum(1 for word in words if word in vocabulary)


def has_any(words: Iterable[str], vocabulary: frozenset[str]) -> bool:
    return any(word in vocabulary for word in words)


def best_match(words: tuple[str, ...], table: dict[str, frozenset[str]]) -> str | None:
    """The key whose vocabulary the words hit most often; ties go to the first key of the table."""
    best, best_score = None, 0
    for key, vocabulary in table.items():
        hits = score(words, vocabulary)
        if hits > best_score:
            best, best_score = key, hits
    return best
