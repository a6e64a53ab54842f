from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """``prefix_`` + 8 chars of milliseconds + 14 random chars: sortable by creation time."""
    ms = int(time.time() * 1000)
    stamp = ""
    for _ in range(9):
        ms, r = divmod(ms, 36)
        stamp = _ALPHABET[r] + stamp
    rand = "".join(secrets.choice(_ALPHABET) for _ in range(14))
    return f"{prefix}_{stamp}{rand}"
