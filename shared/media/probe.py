"""Facts about an uploaded or generated media file: type, dimensions, real duration.

Images are measured from their headers first, so oversized ones are refused before anything
decodes them; within the pixel limit they are then decoded in full (a truncated file is
refused at upload, not later as a failed job). Audio and video go through
PyAV: streams are inspected, the first frames of the stream of the asset's kind are
actually decoded (a file that only *looks* right is refused), and the duration comes
from the container, the streams, or failing both a pass over packet timestamps. Memory stays flat whatever
the file size: packets are streamed and dropped, never collected.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from shared.errors import MediaDecodeError

from .sniff import SNIFF_BYTES, sniff_content_type

#: Raw audio samples without a container (OpenAI's speech ``pcm``): 16-bit little-endian mono
#: at ``PCM_RATE``. Nothing in the bytes says so: only a job that wrote them gives this type.
RAW_PCM = "audio/pcm"
PCM_RATE = 24_000
#: How many packets to read looking for decodable frames before giving up.
_MAX_PROBE_PACKETS = 600

_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
#: Containers whose kind follows from the streams found (see ``_refine``).
_AUDIO_ONLY_FORM = {"video/mp4": "audio/mp4", "video/quicktime": "audio/mp4", "video/webm": "audio/webm",
                    "video/x-matroska": "audio/x-matroska", "video/3gpp": "audio/3gpp"}
_VIDEO_FORM = {"audio/ogg": "video/ogg", "audio/mp4": "video/mp4", "audio/webm": "video/webm",
               "audio/x-matroska": "video/x-matroska"}


_Stream = av.audio.stream.AudioStream | av.video.stream.VideoStream


@dataclass(frozen=True)
class MediaInfo:
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    has_audio: bool = False
    has_video: bool = False


def probe(path: Path | str, kind: str, max_pixels: int | None = None, content_type: str | None = None) -> MediaInfo:
    """Measure ``path`` as media of ``kind`` (``image``, ``audio``, ``video``, or ``text``: a JSON
    transcript, whose duration is that of the audio it covers). An image within ``max_pixels``
    (any, if None) is decoded in full; a larger one is only measured. ``content_type`` is only
    trusted for ``RAW_PCM``, which has no header to sniff."""
    path = Path(path)
    if kind == "text":
        return _probe_transcript(path)
    if kind == "audio" and content_type == RAW_PCM:
        return _probe_pcm(path)
    with path.open("rb") as handle:
        sniffed = sniff_content_type(handle.read(SNIFF_BYTES))
    if kind == "image":
        return _probe_image(path, sniffed, max_pixels)
    if kind in ("audio", "video"):
        return _probe_av(path, kind, sniffed)
    raise ValueError(f"unknown media kind {kind!r}")


def _probe_transcript(path: Path) -> MediaInfo:
    try:
        duration = json.loads(path.read_bytes())["duration"]
        return MediaInfo("application/json", duration_seconds=float(duration))
    except (ValueError, KeyError, TypeError) as exc:
        raise MediaDecodeError(f"not a transcript: {exc}") from exc


def _probe_pcm(path: Path) -> MediaInfo:
    size = path.stat().st_size
    if size == 0 or size % 2:
        raise MediaDecodeError("raw 16-bit PCM must be a non-empty, even number of bytes")
    return MediaInfo(RAW_PCM, duration_seconds=round(size / 2 / PCM_RATE, 3), has_audio=True)


def _probe_image(path: Path, sniffed: str | None, max_pixels: int | None) -> MediaInfo:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(_IMAGE_TYPES)) as image:
                fmt, (width, height) = image.format, image.size
                if max_pixels is None or width * height <= max_pixels:
                    image.load()
    except Image.DecompressionBombError:
        # Pillow refuses very large images before telling their size; the caller's own
        # pixel limit wants the size, so read it from the format's header parser directly.
        fmt, (width, height) = _unchecked_size(path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaDecodeError("not a readable image: unknown format, truncated or corrupt") from exc
    if width <= 0 or height <= 0:
        raise MediaDecodeError("the image has no pixels")
    return MediaInfo(content_type=_IMAGE_TYPES.get(fmt or "", sniffed or "application/octet-stream"),
                     width=width, height=height)


def _unchecked_size(path: Path) -> tuple[str, tuple[int, int]]:
    with path.open("rb") as handle:
        prefix = handle.read(16)
        for fmt in _IMAGE_TYPES:
            factory, accept = Image.OPEN[fmt]
            if accept is None or accept(prefix):
                handle.seek(0)
                image = factory(handle, str(path))
                return fmt, image.size
    raise MediaDecodeError("not a readable image")


def _probe_av(path: Path, kind: str, sniffed: str | None) -> MediaInfo:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            audio = container.streams.audio[0] if container.streams.audio else None
            video = next((s for s in container.streams.video
                          if not s.disposition & av.stream.Disposition.attached_pic), None)
            primary = audio if kind == "audio" else video
            if primary is None:
                raise MediaDecodeError(f"the file has no {kind} stream")
            # Only the stream the asset is used for must decode: an audio upload with an
            # undecodable cover video, or a video with an odd audio track, still serves.
            _decode_first_frame(container, primary)
            # Raw ADTS AAC has no duration to declare: FFmpeg guesses one from the bit rate.
            duration = None if sniffed == "audio/aac" else \
                _declared_duration(container, [s for s in (audio, video) if s is not None])
            width = video.codec_context.width if video is not None else None
            height = video.codec_context.height if video is not None else None
        if duration is None:
            duration = _duration_from_packets(path)
    except av.FFmpegError as exc:
        # str(exc) names the file; the error's own description does not.
        raise MediaDecodeError(f"not decodable {kind}: {exc.strerror or type(exc).__name__}") from exc
    if not duration or duration <= 0:
        raise MediaDecodeError(f"the {kind} has no duration")
    return MediaInfo(content_type=_refine(sniffed, video is not None),
                     width=width or None, height=height or None, duration_seconds=round(duration, 3),
                     has_audio=audio is not None, has_video=video is not None)


def _decode_first_frame(container: av.container.InputContainer, stream: _Stream) -> None:
    """Decode until ``stream`` produces a frame, or fail."""
    for count, packet in enumerate(container.demux(stream)):
        if any(True for _ in packet.decode()):
            return
        if count >= _MAX_PROBE_PACKETS:
            break
    # Decoders with delay (B-frames) may only give their first frame on flushing.
    if not any(True for _ in stream.decode(None)):
        raise MediaDecodeError("no frames could be decoded")


def _declared_duration(container: av.container.InputContainer, streams: list[_Stream]) -> float | None:
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    durations = [float(s.duration * s.time_base) for s in streams if s.duration and s.time_base]
    return max(durations) if durations else None


def _duration_from_packets(path: Path) -> float | None:
    """The end of the last packet: a full pass over the file, reading timestamps only."""
    end = 0.0
    with av.open(str(path), metadata_errors="ignore") as container:
        streams = list(container.streams.audio) + list(container.streams.video)
        for packet in container.demux(streams):
            if packet.pts is None or packet.time_base is None:
                continue
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end or None


def _refine(sniffed: str | None, has_video: bool) -> str:
    """Name multi-purpose containers by what they hold (an audio-only MP4 is audio/mp4)."""
    content_type = sniffed or "application/octet-stream"
    if not has_video and content_type in _AUDIO_ONLY_FORM:
        return _AUDIO_ONLY_FORM[content_type]
    if has_video and content_type in _VIDEO_FORM:
        return _VIDEO_FORM[content_type]
    return content_type
