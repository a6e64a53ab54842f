"""Instrument voices synthesised with numpy: one function per timbre, one note per call.

Each returns a mono float32 note of ``seconds`` plus its release tail. Notes are cached
by (instrument, pitch, length) because a piece repeats them constantly; velocity is a
gain the caller applies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

RATE = 44100


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _time(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * RATE), dtype=np.float32) / RATE


def _envelope(t: np.ndarray, hold: float, attack: float, release: float) -> np.ndarray:
    """Linear attack, held until ``hold`` seconds, then a linear release."""
    rise = np.clip(t / max(attack, 1e-4), 0, 1)
    fall = np.clip(1 - (t - hold) / max(release, 1e-4), 0, 1)
    return rise * fall


def _harmonics(t: np.ndarray, hz: float, amplitudes: list[float], decays: list[float] | None = None,
               stretch: float = 0.0) -> np.ndarray:
    """Sum of partials (below Nyquist), optionally each with its own exponential decay."""
    out = np.zeros_like(t)
    for k, amplitude in enumerate(amplitudes, start=1):
        partial = hz * k * np.sqrt(1 + stretch * k * k)
        if partial >= RATE * 0.45:
            break
        wave = amplitude * np.sin(2 * np.pi * partial * t)
        if decays is not None:
            wave *= np.exp(-decays[k - 1] * t)
        out += wave
    return out


def piano(hz: float, seconds: float) -> np.ndarray:
    t = _time(seconds + 0.35)
    decay = 1.2 + hz / 350
    amps = [1.0 / k**1.4 for k in range(1, 11)]
    decays = [decay * k**0.7 for k in range(1, 11)]
    tone = _harmonics(t, hz, amps, decays, stretch=0.0004)
    hammer = np.exp(-t * 300) * np.sin(2 * np.pi * hz * 7.1 * t) * 0.15
    return (tone + hammer) * _envelope(t, seconds, 0.003, 0.3)


def pluck(hz: float, seconds: float) -> np.ndarray:
    t = _time(seconds + 0.2)
    amps = [1.0 / k for k in range(1, 13)]
    decays = [2.5 + 1.8 * k for k in range(1, 13)]
    return _harmonics(t, hz, amps, decays, stretch=0.0002) * _envelope(t, seconds, 0.002, 0.15)


def pad(hz: float, seconds: float) -> np.ndarray:
    """Strings-like: three detuned, softly filtered saws with a slow swell."""
    t = _time(seconds + 0.8)
    amps = [1.0 / k**1.3 for k in range(1, 9)]
    tone = sum(_harmonics(t, hz * d, amps) for d in (0.996, 1.0, 1.004))
    vibrato = 1 + 0.04 * np.sin(2 * np.pi * 5.0 * t)
    return tone * vibrato * _envelope(t, seconds, min(0.5, seconds * 0.4), 0.8) / 3


def bell(hz: float, seconds: float) -> np.ndarray:
    """Two-operator FM with an inharmonic ratio, the index decaying with the note."""
    t = _time(seconds + 1.2)
    index = 3.0 * np.exp(-t * 3)
    tone = np.sin(2 * np.pi * hz * t + index * np.sin(2 * np.pi * hz * 3.5 * t))
    return tone * np.exp(-t * 2.2) * _envelope(t, seconds + 1.0, 0.002, 0.2)


def lead(hz: float, seconds: float) -> np.ndarray:
    """A bright, slightly hollow synth lead (odd-heavy partials) with delayed vibrato."""
    t = _time(seconds + 0.12)
    amps = [1.0 / k if k % 2 else 0.35 / k for k in range(1, 14)]
    depth = 0.006 * np.clip(t / 0.25, 0, 1)
    tone = _harmonics(t * (1 + depth * np.sin(2 * np.pi * 5.5 * t)), hz, amps)
    return tone * _envelope(t, seconds, 0.01, 0.1) * 0.7


def flute(hz: float, seconds: float, rng_seed: int = 7) -> np.ndarray:
    t = _time(seconds + 0.15)
    vibrato = 1 + 0.004 * np.sin(2 * np.pi * 5.0 * t)
    tone = _harmonics(t * vibrato, hz, [1.0, 0.25, 0.12, 0.05])
    breath = np.random.default_rng(rng_seed).standard_normal(t.size).astype(np.float32) * 0.03
    return (tone + breath) * _envelope(t, seconds, 0.06, 0.12)


def bass(hz: float, seconds: float) -> np.ndarray:
    t = _time(seconds + 0.08)
    tone = _harmonics(t, hz, [1.0, 0.5, 0.25, 0.12], [1.5, 3.0, 5.0, 7.0])
    return tone * _envelope(t, seconds, 0.005, 0.08)


def _shaped_noise(seconds: float, low: float, high: float, seed: int) -> np.ndarray:
    """White noise band-limited to [low, high] Hz in the frequency domain (no scipy needed)."""
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[(freqs < low) | (freqs > high)] = 0
    noise = np.fft.irfft(spectrum, n).astype(np.float32)
    return noise / (np.abs(noise).max() + 1e-9)


def kick(seconds: float = 0.45) -> np.ndarray:
    t = _time(seconds)
    sweep = 45 + 110 * np.exp(-t * 28)
    phase = 2 * np.pi * np.cumsum(sweep) / RATE
    return (np.sin(phase) * np.exp(-t * 7) + 0.3 * np.exp(-t * 250)).astype(np.float32)


def snare(seconds: float = 0.3) -> np.ndarray:
    t = _time(seconds)
    body = np.sin(2 * np.pi * 185 * t) * np.exp(-t * 22) * 0.5
    return (body + _shaped_noise(seconds, 900, 9000, 11) * np.exp(-t * 16) * 0.8).astype(np.float32)


def hat(seconds: float = 0.08) -> np.ndarray:
    t = _time(seconds)
    return (_shaped_noise(seconds, 6500, 16000, 13) * np.exp(-t * 55)).astype(np.float32)


def shaker(seconds: float = 0.12) -> np.ndarray:
    t = _time(seconds)
    envelope = np.clip(t / 0.03, 0, 1) * np.exp(-t * 30)
    return (_shaped_noise(seconds, 3000, 11000, 17) * envelope * 0.6).astype(np.float32)


TONAL: dict[str, Callable[[float, float], np.ndarray]] = {
    "piano": piano, "pluck": pluck, "pad": pad, "bell": bell, "lead": lead, "flute": flute, "bass": bass,
}
DRUMS: dict[str, Callable[[], np.ndarray]] = {"kick": kick, "snare": snare, "hat": hat, "shaker": shaker}


@lru_cache(maxsize=256)
def note(instrument: str, midi: int, seconds: float) -> np.ndarray:
    """A cached, read-only note; ``seconds`` should be quantised by the caller."""
    samples = TONAL[instrument](midi_hz(midi), seconds).astype(np.float32)
    samples.flags.writeable = False
    return samples


@lru_cache(maxsize=8)
def drum(name: str) -> np.ndarray:
    samples = DRUMS[name]().astype(np.float32)
    samples.flags.writeable = False
    return samples
