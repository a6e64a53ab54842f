"""Writing and reading media with PyAV: speech and music in every audio format, H.264(+AAC) MP4 video."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import cast

import av
import numpy as np
from PIL import Image

from shared.media.probe import PCM_RATE, RAW_PCM

from ..base import GenerationFailed

VIDEO_RATE = 24
AAC_RATE = 44100


@dataclass(frozen=True)
class AudioEncoding:
    content_type: str
    container: str
    codec: str
    #: Per channel; None for lossless codecs.
    bit_rate: int | None = None
    #: The sample rates the codec takes (None: any); the nearest higher one is used.
    rates: tuple[int, ...] | None = None


#: ``output_format`` → how it is written. Opus goes in Ogg and AAC in ADTS, as OpenAI's speech
#: endpoint answers them; ``pcm`` (raw samples, no container) is written by ``_write_pcm``.
ENCODINGS: dict[str, AudioEncoding] = {
    "mp3": AudioEncoding("audio/mpeg", "mp3", "libmp3lame", 96_000),
    "wav": AudioEncoding("audio/wav", "wav", "pcm_s16le"),
    "opus": AudioEncoding("audio/ogg", "ogg", "libopus", 48_000, (8000, 12000, 16000, 24000, 48000)),
    "aac": AudioEncoding("audio/aac", "adts", "aac", 96_000),
    "flac": AudioEncoding("audio/flac", "flac", "flac"),
}
AUDIO_TYPES = {**{fmt: e.content_type for fmt, e in ENCODINGS.items()}, "pcm": RAW_PCM}


def _audio_frame(samples: np.ndarray, rate: int) -> av.AudioFrame:
    """A planar float frame from ``(n,)`` mono or ``(n, channels)`` samples."""
    planes = np.ascontiguousarray(np.atleast_2d(samples.T if samples.ndim == 2 else samples), dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout="stereo" if planes.shape[0] == 2 else "mono")
    frame.sample_rate = rate
    return frame


def _codec_rate(encoding: AudioEncoding, rate: int) -> int:
    if encoding.rates is None or rate in encoding.rates:
        return rate
    return next((r for r in encoding.rates if r >= rate), encoding.rates[-1])


def _write_pcm(path: Path, samples: np.ndarray, rate: int) -> None:
    """OpenAI's ``pcm``: 16-bit little-endian mono at 24 kHz, no header."""
    mono = samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples
    pcm = np.clip(resample(np.ascontiguousarray(mono, dtype=np.float32), rate, PCM_RATE), -1.0, 1.0)
    path.write_bytes(np.round(pcm * 32767).astype("<i2").tobytes())


def write_audio(path: Path, samples: np.ndarray, rate: int, fmt: str) -> str:
    """Encode float samples in [-1, 1] (``(n,)`` mono or ``(n, 2)`` stereo) in ``fmt`` (a key of
    ``AUDIO_TYPES``); returns the content type."""
    if fmt == "pcm":
        _write_pcm(path, samples, rate)
        return RAW_PCM
    encoding = ENCODINGS[fmt]
    channels = 2 if samples.ndim == 2 else 1
    clipped = np.clip(samples, -1.0, 1.0)
    with av.open(str(path), "w", format=encoding.container) as container:
        stream = cast(av.audio.stream.AudioStream, container.add_stream(
            encoding.codec, rate=_codec_rate(encoding, rate), layout="stereo" if channels == 2 else "mono"))
        if encoding.bit_rate:
            stream.bit_rate = encoding.bit_rate * channels
        if fmt == "mp3":
            # LAME quality 5 of 0–9: about twice as fast as its default, still transparent enough.
            stream.options = {"compression_level": "5"}
        step = rate  # one second per frame keeps memory flat for long pieces
        for start in range(0, clipped.shape[0], step):
            frame = _audio_frame(clipped[start:start + step], rate)
            frame.pts = start
            container.mux(stream.encode(frame))  # PyAV converts to the codec's sample format and rate
        container.mux(stream.encode(None))
    return encoding.content_type


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float32 at ``rate`` → at ``target``, with FFmpeg's resampler."""
    if rate == target:
        return samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    chunks = [out.to_ndarray().reshape(-1) for out in resampler.resample(_audio_frame(samples, rate))]
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def read_audio(path: Path, rate: int, max_seconds: float | None = None) -> np.ndarray:
    """Decode the first audio stream of any file PyAV reads (or raw ``.pcm``), as mono float32 at ``rate``;
    with ``max_seconds``, decoding stops once that much is in hand."""
    limit = round(max_seconds * rate) if max_seconds is not None else None
    if path.suffix == ".pcm":
        raw = np.frombuffer(path.read_bytes()[:path.stat().st_size // 2 * 2], dtype="<i2")
        if not raw.size:
            raise GenerationFailed("the audio input contains no samples")
        return resample(raw.astype(np.float32) / 32768.0, PCM_RATE, rate)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise GenerationFailed("the audio input has no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks: list[np.ndarray] = []
            decoded = 0
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    decoded += chunks[-1].size
                if limit is not None and decoded >= limit:
                    break
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except av.FFmpegError as exc:
        raise GenerationFailed(f"the audio input could not be decoded: {exc}") from exc
    if not chunks:
        raise GenerationFailed("the audio input contains no samples")
    return np.concatenate(chunks).astype(np.float32)[:limit]


class VideoWriter:
    """An MP4 with one H.264 stream and optionally one AAC stream, filled frame by frame.

    Audio, when given, is handed to the muxer in step with the frames so the two
    streams interleave without buffering the whole clip.
    """

    def __init__(self, path: Path, width: int, height: int, fps: int = VIDEO_RATE,
                 audio: np.ndarray | None = None, audio_rate: int = AAC_RATE, crf: int = 23,
                 preset: str = "veryfast") -> None:
        self.fps, self.audio, self.audio_rate = fps, audio, audio_rate
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.video = self.container.add_stream("libx264", rate=fps)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.options = {"crf": str(crf), "preset": preset}
        self.sound = None
        if audio is not None:
            self.sound = self.container.add_stream("aac", rate=audio_rate, layout="mono")
            self.sound.bit_rate = 96_000
        self.frames = 0
        self.audio_sent = 0

    def add(self, image: Image.Image) -> None:
        """Append one RGB frame; a smaller frame is upscaled (bicubic) to the stream size."""
        frame = av.VideoFrame.from_image(image).reformat(
            width=self.video.width, height=self.video.height, format="yuv420p", interpolation="BICUBIC")
        frame.pts = self.frames
        frame.time_base = Fraction(1, self.fps)
        self.container.mux(self.video.encode(frame))
        self.frames += 1
        self._feed_audio(round(self.frames * self.audio_rate / self.fps))

    def _feed_audio(self, until: int) -> None:
        if self.sound is None or self.audio is None:
            return
        until = min(until, self.audio.size)
        if until > self.audio_sent:
            frame = _audio_frame(np.clip(self.audio[self.audio_sent:until], -1.0, 1.0), self.audio_rate)
            frame.pts = self.audio_sent
            self.container.mux(self.sound.encode(frame))
            self.audio_sent = until

    def close(self) -> None:
        self._feed_audio(self.audio.size if self.audio is not None else 0)
        self.container.mux(self.video.encode(None))
        if self.sound is not None:
            self.container.mux(self.sound.encode(None))
        self.container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
            return
        # Abandoning a half-written file: its trailer may fail to write, and that failure
        # must not mask the error (or JobAborted) that got us here.
        with contextlib.suppress(av.FFmpegError, OSError):
            self.container.close()
