"""audio_to_audio: a source recording reworked as the prompt asks.

The source is analysed in 0.1 s windows: its loudness, and its pitch where it has one
(autocorrelation); its key is the most common pitch class. A piece in the prompt's style
(``score``) is composed in that key, with the prompt's lead instrument doubling the source's
own melody (each run of windows on one pitch becomes a note), and its dynamics follow the
source's loudness; instruments the negative prompt names never play. The result is mixed
over the source: ``strength`` 0 keeps the source
alone, 1 brings the accompaniment up and the source down to a third.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .instruments import RATE
from .music import finish, render_events
from .prompt import words_of
from .score import Event, compose, style_for

WINDOW = 0.1
#: Below this share of the source's loud level a window is treated as silence (no pitch).
_QUIET = 0.2


@dataclass(frozen=True)
class Analysis:
    #: Loudness per window, 0–1.
    loudness: np.ndarray
    #: MIDI pitch per window (fractional), NaN where the window has no clear pitch.
    pitch: np.ndarray

    def key_root(self) -> int | None:
        """The most common pitch class, or None for a source without pitch."""
        pitched = self.pitch[~np.isnan(self.pitch)]
        if pitched.size == 0:
            return None
        return int(np.bincount(np.round(pitched).astype(int) % 12, minlength=12).argmax())


def analyse(samples: np.ndarray, rate: int = RATE) -> Analysis:
    size = int(rate * WINDOW)
    count = max(1, samples.size // size)
    frames = np.zeros((count, size), dtype=np.float32)
    flat = samples[: count * size]
    frames.reshape(-1)[: flat.size] = flat
    level = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    loudness = np.clip(level / max(float(np.percentile(level, 95)), 1e-6), 0, 1)
    centred = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, 2 * size, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :size]
    lo, hi = rate // 1000, rate // 60  # 60 Hz – 1 kHz
    lags = lo + corr[:, lo:hi].argmax(axis=1)
    clear = corr[np.arange(count), lags] > 0.5 * np.maximum(corr[:, 0], 1e-12)
    pitch = 69 + 12 * np.log2(rate / lags / 440.0)
    return Analysis(loudness.astype(np.float32), np.where(clear & (loudness > _QUIET), pitch, np.nan))


def doubled_melody(analysis: Analysis, instrument: str) -> list[Event]:
    """The source's melody as notes of ``instrument``, moved by octaves into 55–84."""
    events: list[Event] = []
    notes = np.round(analysis.pitch)
    start = 0
    for i in range(1, notes.size + 1):
        if i < notes.size and notes[i] == notes[start]:
            continue
        if not np.isnan(notes[start]):
            midi = int(notes[start])
            while midi < 55:
                midi += 12
            while midi > 84:
                midi -= 12
            velocity = 0.35 + 0.4 * float(analysis.loudness[start:i].mean())
            events.append(Event(start * WINDOW, instrument, midi, (i - start) * WINDOW, velocity, 0.1))
        start = i
    return events


def _envelope(analysis: Analysis, total: int) -> np.ndarray:
    """The source's loudness per sample, eased between windows."""
    centres = (np.arange(analysis.loudness.size) + 0.5) * WINDOW * RATE
    return np.interp(np.arange(total), centres, analysis.loudness).astype(np.float32)


def rework(source: np.ndarray, prompt: str | None, strength: float, seed: int,
           progress: Callable[[float], None] | None = None,
           negative_prompt: str | None = None) -> tuple[np.ndarray, int]:
    """``source``: mono float32 at ``RATE``, already cut to length. Returns stereo samples and the rate."""
    words = words_of(prompt)
    analysis = analyse(source)
    style = style_for(words, seed, words_of(negative_prompt))
    root = analysis.key_root()
    if root is not None:
        style = dataclasses.replace(style, root=root)
    total = source.size
    melody = [] if style.lead in style.banned else doubled_melody(analysis, style.lead)
    events = compose(style, total / RATE, seed, words) + melody
    accompaniment = render_events(events, total + int(RATE * 0.5), progress)[:, :total]
    accompaniment *= 0.25 + 0.75 * _envelope(analysis, total)
    level = float(np.sqrt((source.astype(np.float64) ** 2).mean())) or 1.0
    accompaniment *= level / (float(np.sqrt((accompaniment.astype(np.float64) ** 2).mean())) or 1.0)
    mixed = source[None, :] * (1 - 0.67 * strength) + accompaniment * strength
    return finish(mixed, style.space * strength, seed, total), RATE
