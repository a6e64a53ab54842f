"""Offline English speech recognition with PocketSphinx (its bundled en-us acoustic model,
language model and dictionary; nothing is downloaded).

Any audio PyAV decodes is resampled to 16 kHz mono; a voice-activity segmenter splits it into
speech regions, and each region is decoded as one utterance: a segment with its text, start
and end, and its words with their own times (PocketSphinx frames are 10 ms).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pocketsphinx import Decoder, Segmenter

from workers.providers.local.encode import read_audio

RATE = 16_000
_FRAMES_PER_SECOND = 100
#: Fillers and markers the decoder puts between words: silence, noise, sentence bounds.
_NOT_A_WORD = re.compile(r"^(<.*>|\[.*\]|\(.*\))$")
_ALTERNATE = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Transcript:
    text: str
    duration: float
    segments: list[Segment]
    language: str = "english"

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def as_dict(self) -> dict[str, Any]:
        """The stored transcript (``shared.media.transcripts`` renders it in OpenAI's formats)."""
        return asdict(self)


class _Recogniser:
    """One decoder per process (loading its models takes a while); one utterance at a time."""

    def __init__(self) -> None:
        self.decoder = Decoder(samprate=RATE, loglevel="FATAL")
        self.lock = threading.Lock()

    def utterance(self, pcm: bytes, offset: float) -> tuple[str, list[Word]]:
        with self.lock:
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hyp = self.decoder.hyp()
            words = [Word(_ALTERNATE.sub("", s.word), round(offset + s.start_frame / _FRAMES_PER_SECOND, 2),
                          round(offset + (s.end_frame + 1) / _FRAMES_PER_SECOND, 2))
                     for s in self.decoder.seg() if not _NOT_A_WORD.match(s.word)]
        return (hyp.hypstr if hyp is not None else ""), words


@lru_cache(maxsize=1)
def _recogniser() -> _Recogniser:
    return _Recogniser()


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def transcribe_samples(samples: np.ndarray, progress: Callable[[float], None] | None = None) -> Transcript:
    """Recognise mono float32 samples at 16 kHz; ``progress`` (0–1) after each speech region."""
    recogniser = _recogniser()
    segments: list[Segment] = []
    duration = samples.shape[0] / RATE
    for region in Segmenter(sample_rate=RATE).segment(io.BytesIO(pcm16(samples))):
        text, words = recogniser.utterance(region.pcm, region.start_time)
        if progress is not None and duration > 0:
            progress(region.end_time / duration)
        if text.strip():
            segments.append(Segment(len(segments), round(region.start_time, 2), round(region.end_time, 2),
                                    text.strip(), words))
    return Transcript(" ".join(s.text for s in segments), round(samples.shape[0] / RATE, 3), segments)


def transcribe(path: Path, progress: Callable[[float], None] | None = None) -> Transcript:
    """Recognise the speech in any audio (or video) file PyAV reads."""
    return transcribe_samples(read_audio(path, RATE), progress)
