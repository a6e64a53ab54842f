"""Rendering a composed piece to stereo samples: mixing, reverb, mastering."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import instruments
from .instruments import RATE
from .prompt import words_of
from .score import Event, compose, style_for

#: Per-instrument mix levels, so no single part buries the others.
_LEVELS = {"piano": 0.5, "pluck": 0.45, "pad": 0.3, "bell": 0.35, "lead": 0.28, "flute": 0.45,
           "bass": 0.55, "kick": 0.9, "snare": 0.45, "hat": 0.22, "shaker": 0.25}


def _reverb(dry: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """Convolution with a decaying-noise impulse (a cheap, dense room).

    FFT overlap-add in blocks, in single precision, so memory stays a few MB whatever
    the piece's length.
    """
    if amount <= 0:
        return dry
    length = int(RATE * 1.8)
    t = np.arange(length, dtype=np.float32) / RATE
    tail = np.exp(-t * 3.2) * np.clip(t / 0.02, 0, 1)
    impulse = np.random.default_rng(seed).standard_normal((2, length)).astype(np.float32) * tail * 0.05
    block = 1 << 17
    size = 1 << int(np.ceil(np.log2(block + length)))
    response = np.fft.rfft(impulse, size)
    total = dry.shape[1]
    wet = np.zeros((2, total + size), dtype=np.float32)
    for start in range(0, total, block):
        chunk = np.fft.rfft(dry[:, start:start + block], size)
        wet[:, start:start + size] += np.fft.irfft(chunk * response, size).astype(np.float32)
    return dry + amount * wet[:, :total]


def render_events(events: list[Event], total: int,
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Mix events into a ``(2, total)`` buffer with constant-power panning."""
    mix = np.zeros((2, total), dtype=np.float32)
    every = max(1, len(events) // 20)
    for i, event in enumerate(events):
        if event.instrument in instruments.DRUMS:
            samples = instruments.drum(event.instrument)
        else:
            # Quantise lengths to 1/40 s so repeated notes share a cache entry.
            samples = instruments.note(event.instrument, event.pitch, round(event.seconds * 40) / 40)
        start = int(event.time * RATE)
        samples = samples[: max(0, total - start)]
        gain = event.velocity * _LEVELS[event.instrument]
        angle = (event.pan + 1) * np.pi / 4
        end = start + samples.size
        mix[0, start:end] += samples * (gain * np.cos(angle))
        mix[1, start:end] += samples * (gain * np.sin(angle))
        if progress is not None and i % every == 0:
            progress(i / len(events))
    return mix


def _master(mix: np.ndarray) -> np.ndarray:
    """Soft-clip, normalise to -1 dBFS, and fade the ends so the piece starts and stops cleanly."""
    mix -= mix.mean(axis=1, keepdims=True)
    peak = float(np.abs(mix).max()) or 1.0
    mix = np.tanh(mix / peak * 1.4) / np.tanh(1.4)
    mix *= 0.89 / (float(np.abs(mix).max()) or 1.0)
    total = mix.shape[1]
    fade_in, fade_out = min(total // 4, int(0.02 * RATE)), min(total // 3, int(1.5 * RATE))
    mix[:, :fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    mix[:, total - fade_out:] *= np.linspace(1, 0, fade_out, dtype=np.float32) ** 1.5
    return mix


def finish(mix: np.ndarray, space: float, seed: int, total: int) -> np.ndarray:
    """A ``(2, n)`` mix with reverb (send ``space``), cut to ``total`` samples and mastered, as ``(total, 2)``."""
    return _master(_reverb(mix, space, seed)[:, :total]).T.copy()


def render_music(prompt: str | None, seconds: float, seed: int,
                 progress: Callable[[float], None] | None = None,
                 negative_prompt: str | None = None) -> tuple[np.ndarray, int]:
    """A piece of exactly ``seconds``; returns ``(samples, channels)`` float32 and the rate."""
    words = words_of(prompt)
    style = style_for(words, seed, words_of(negative_prompt))
    events = compose(style, seconds, seed, words)
    total = int(round(seconds * RATE))
    try:
        mix = render_events(events, total + int(RATE * 0.5), progress)
    finally:
        instruments.note.cache_clear()  # notes are reused within a piece, rarely across pieces
    return finish(mix, style.space, seed, total), RATE
