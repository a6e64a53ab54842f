"""Writing and reading media with PyAV: MP3/WAV audio, H.264(+AAC) MP4 video."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from PIL import Image

from ..base import GenerationFailed

AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}
VIDEO_RATE = 24
AAC_RATE = 44100


def _audio_frame(samples: np.ndarray, rate: int) -> av.AudioFrame:
    """A planar float frame from ``(n,)`` mono or ``(n, channels)`` samples."""
    planes = np.ascontiguousarray(np.atleast_2d(samples.T if samples.ndim == 2 else samples), dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout="stereo" if planes.shape[0] == 2 else "mono")
    frame.sample_rate = rate
    return frame


def write_audio(path: Path, samples: np.ndarray, rate: int, fmt: str) -> str:
    """Encode float samples in [-1, 1] as MP3 or 16-bit WAV; returns the content type."""
    channels = 2 if samples.ndim == 2 else 1
    layout = "stereo" if channels == 2 else "mono"
    clipped = np.clip(samples, -1.0, 1.0)
    with av.open(str(path), "w", format=fmt) as container:
        if fmt == "wav":
            stream = container.add_stream("pcm_s16le", rate=rate, layout=layout)
        else:
            stream = container.add_stream("libmp3lame", rate=rate, layout=layout)
            stream.bit_rate = 96_000 * channels
            # LAME quality 5 of 0–9: about twice as fast as its default, still transparent enough.
            stream.options = {"compression_level": "5"}
        step = rate  # one second per frame keeps memory flat for long pieces
        for start in range(0, clipped.shape[0], step):
            frame = _audio_frame(clipped[start:start + step], rate)
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return AUDIO_TYPES[fmt]


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float32 at ``rate`` → at ``target``, with FFmpeg's resampler."""
    if rate == target:
        return samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    chunks = [out.to_ndarray().reshape(-1) for out in resampler.resample(_audio_frame(samples, rate))]
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def read_audio(path: Path, rate: int) -> np.ndarray:
    """Decode the first audio stream of any file PyAV reads, as mono float32 at ``rate``."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise GenerationFailed("the audio input has no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks: list[np.ndarray] = []
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except av.FFmpegError as exc:
        raise GenerationFailed(f"the audio input could not be decoded: {exc}") from exc
    if not chunks:
        raise GenerationFailed("the audio input contains no samples")
    return np.concatenate(chunks).astype(np.float32)


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
