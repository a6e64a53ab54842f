"""Offline English speech recognition with PocketSphinx (its bundled en-us acoustic model,
language model and dictionary; nothing is downloaded).

Any audio PyAV decodes is resampled to 16 kHz mono; a voice-activity segmenter splits it into
speech regions, and each region is decoded as one utterance: a segment with its text, start
and end, and its words with their own times (PocketSphinx frames are 10 ms).

The decoder holds the GIL for as long as it decodes an utterance, which would starve the
worker's heartbeat thread; ``transcribe`` therefore runs it in a child process
(``python -m workers.providers.local.transcribe PCM_FILE``, one JSON segment per line), which
is also killed at once when the job is cancelled.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pocketsphinx import Decoder, Segmenter

from workers.providers.base import GenerationFailed
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
    duration = samples.shape[0] / RATE
    segments: list[Segment] = []
    for segment in _segments(pcm16(samples)):
        segments.append(Segment(len(segments), segment.start, segment.end, segment.text, segment.words))
        if progress is not None and duration > 0:
            progress(segment.end / duration)
    return Transcript(" ".join(s.text for s in segments), round(duration, 3), segments)


def _segments(pcm: bytes) -> Iterator[Segment]:
    recogniser = _recogniser()
    for region in Segmenter(sample_rate=RATE).segment(io.BytesIO(pcm)):
        text, words = recogniser.utterance(region.pcm, region.start_time)
        if text.strip():
            yield Segment(0, round(region.start_time, 2), round(region.end_time, 2), text.strip(), words)


def transcribe(path: Path, progress: Callable[[float], None] | None = None,
               check_cancelled: Callable[[], None] | None = None) -> Transcript:
    """Recognise the speech in any audio (or video) file PyAV reads, in a child process."""
    samples = read_audio(path, RATE)
    duration = samples.shape[0] / RATE
    raw = path.with_name(path.name + ".pcm")
    raw.write_bytes(pcm16(samples))
    segments: list[Segment] = []
    child = subprocess.Popen([sys.executable, "-m", __name__, str(raw)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        for line in child.stdout:
            item = json.loads(line)
            words = [Word(**w) for w in item.pop("words")]
            segments.append(Segment(**{**item, "id": len(segments)}, words=words))
            if progress is not None and duration > 0:
                progress(segments[-1].end / duration)
            if check_cancelled is not None:
                check_cancelled()
        if child.wait() != 0:
            raise GenerationFailed(f"the recogniser stopped with status {child.returncode}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        raw.unlink(missing_ok=True)
    return Transcript(" ".join(s.text for s in segments), round(duration, 3), segments)


def _main(raw: str) -> None:
    for segment in _segments(Path(raw).read_bytes()):
        print(json.dumps(asdict(segment)), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1])
