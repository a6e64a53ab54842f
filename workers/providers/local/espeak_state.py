"""Restoring espeak-ng's waveform-generator counters, so speech is reproducible.

espeak-ng keeps a few counters of its waveform generator (pitch-flutter index, cycle
count, glottal state…) in function-local statics that carry over from one utterance
to the next and that no API resets; the same text therefore comes out slightly
different every time. These statics live in ``.bss``, so their load-time value is
zero: writing zero back before an utterance returns them to a state the library
itself starts from. They are found by name in the library's ELF symbol table; if the
table or any name is missing (a stripped or different build), nothing is touched and
speech is merely not sample-identical.
"""

from __future__ import annotations

import ctypes
import struct
from pathlib import Path

#: Name prefixes; the compiler appends ``.NNNN`` to function statics.
_COUNTERS = ("Flutter_ix", "cycle_count", "h_switch_sign", "amplitude2", "glotlast")
#: Sizes of the scalar types they may have (int, long, double).
_SCALAR_SIZES = (4, 8)
_ANCHOR = "espeak_ng_SetRandSeed"
_SHT_SYMTAB, _SHT_NOBITS, _STT_OBJECT, _STT_FUNC = 2, 8, 1, 2


def _symbols(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """name → (value, size, type, section type) from a 64-bit little-endian ELF ``.symtab``."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return {}
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    found: dict[str, tuple[int, int, int, int]] = {}
    for section in sections:
        if section[1] != _SHT_SYMTAB:
            continue
        offset, size, link, entsize = section[4], section[5], section[6], section[9]
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            name_at, info, _, shndx, value, sym_size = struct.unpack_from("<IBBHQQ", data, at)
            end = data.index(b"\0", strings + name_at)
            name = data[strings + name_at:end].decode("ascii", "replace")
            kind = sections[shndx][1] if 0 < shndx < len(sections) else 0
            found[name] = (value, sym_size, info & 0xF, kind)
    return found


class CounterReset:
    """Zeroes the counters in the loaded library; a no-op when they cannot be found safely."""

    def __init__(self, lib: ctypes.CDLL, path: Path) -> None:
        self.addresses: list[tuple[int, int]] = []
        try:
            symbols = _symbols(path)
        except (OSError, struct.error, ValueError, IndexError):
            return
        anchor = symbols.get(_ANCHOR)
        if anchor is None or anchor[2] != _STT_FUNC:
            return
        anchor_address = ctypes.cast(getattr(lib, _ANCHOR), ctypes.c_void_p).value
        if anchor_address is None:
            return
        base = anchor_address - anchor[0]
        for prefix in _COUNTERS:
            matches = [s for name, s in symbols.items() if name.split(".", 1)[0] == prefix
                       and s[1] in _SCALAR_SIZES and s[2] == _STT_OBJECT and s[3] == _SHT_NOBITS]
            if len(matches) != 1:
                self.addresses = []
                return
            self.addresses.append((base + matches[0][0], matches[0][1]))

    def __call__(self) -> None:
        for address, size in self.addresses:
            ctypes.memset(address, 0, size)
