"""video_to_video: every frame of a source video restyled as the prompt asks (``restyle``).

The source is decoded with PyAV and sampled at the output frame rate (each output frame
shows the latest source frame at its time; a source frame shown twice is restyled once),
restyled with the same style, strength and seed throughout (so the look holds from frame to
frame, and overlays such as falling snow move with the clip's time), and re-encoded as H.264.
The source's first audio track, if it has one, is kept (as mono AAC), cut to the clip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from shared.media.video_format import MAX_FPS, MIN_FPS, fit_size

from ..base import GenerationFailed
from .encode import AAC_RATE, VideoWriter, read_audio
from .restyle import restyle


@dataclass(frozen=True)
class Rework:
    prompt: str
    strength: float
    seed: int
    #: Requested length (None: the source's); the clip never outlasts the source or 10 s.
    seconds: float | None = None
    resolution: str | None = None
    fps: int | None = None


def output_size(width: int, height: int, resolution: str | None) -> tuple[int, int]:
    """The source's proportions at ``resolution``; without one, its own size (within 1080p)."""
    if resolution is not None:
        return fit_size(resolution, width, height)
    big = fit_size("1080p", width, height)
    if width * height > big[0] * big[1]:
        return big
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


def _source_frames(container: av.container.InputContainer) -> Iterator[tuple[float, Image.Image]]:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    start: float | None = None
    for index, frame in enumerate(container.decode(stream)):
        time = frame.time if frame.time is not None else index / float(stream.average_rate or 25)
        start = time if start is None else start
        yield time - start, frame.to_image()


def _sampled(frames: Iterator[tuple[float, Image.Image]], count: int, fps: int) -> Iterator[tuple[int, Image.Image]]:
    """(source frame number, picture) for each of ``count`` output frames at ``fps``."""
    shown, number, emitted = None, -1, 0
    for time, picture in frames:
        while emitted < count and shown is not None and emitted / fps < time:
            yield number, shown
            emitted += 1
        if emitted >= count:
            return
        shown, number = picture, number + 1
    while shown is not None and emitted < count:  # the source ended: hold its last frame
        yield number, shown
        emitted += 1


def _source_audio(path: Path, container: av.container.InputContainer, seconds: float) -> np.ndarray | None:
    if not container.streams.audio:
        return None
    return read_audio(path, AAC_RATE, max_seconds=seconds)


def restyle_video(source: Path, path: Path, rework: Rework, source_seconds: float | None,
                  progress: Callable[[float], None]) -> None:
    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise GenerationFailed("the input video has no video stream")
            stream = container.streams.video[0]
            length = source_seconds or (container.duration or 0) / av.time_base
            seconds = min(rework.seconds or length, length, 10.0)
            fps = rework.fps or min(max(round(float(stream.average_rate or 24)), MIN_FPS), MAX_FPS)
            count = max(1, math.ceil(seconds * fps - 1e-6))
            size = output_size(stream.codec_context.width, stream.codec_context.height, rework.resolution)
            audio = _source_audio(source, container, count / fps)
            _encode(_sampled(_source_frames(container), count, fps), path, size, fps, audio, rework,
                    lambda i: progress(i / count))
    except av.FFmpegError as exc:
        raise GenerationFailed(f"the input video could not be decoded: {exc}") from exc


def _encode(frames: Iterator[tuple[int, Image.Image]], path: Path, size: tuple[int, int], fps: int,
            audio: np.ndarray | None, rework: Rework, progress: Callable[[int], None]) -> None:
    last: tuple[int, Image.Image] | None = None
    with VideoWriter(path, *size, fps=fps, audio=audio) as writer:
        for i, (number, picture) in enumerate(frames):
            if last is None or last[0] != number:
                styled = restyle(picture.resize(size, Image.Resampling.BILINEAR), rework.prompt, rework.strength,
                                 rework.seed, i / fps)
                last = (number, styled)
            writer.add(last[1])
            if i % fps == 0:
                progress(i)
