"""What a file really is, from its first bytes (the declared type is never trusted).

Containers that carry audio or video alike (MP4, WebM/Matroska, Ogg) are named by
their usual use here; ``probe`` refines them from the streams actually present, and
``matches_kind`` says whether such a container may hold a given kind at all.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal, cast

MediaKind = Literal["image", "audio", "video"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("image", "audio", "video")

#: Bytes worth reading before calling ``sniff_content_type``.
SNIFF_BYTES = 64

#: The usual file extension (without the dot) of every content type ``sniff_content_type`` names,
#: and of raw PCM (``shared.media.probe.RAW_PCM``), which only a job's output is.
EXTENSIONS: dict[str, str] = {
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif",
    "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg", "audio/flac": "flac", "audio/aac": "aac",
    "audio/mp4": "m4a", "audio/pcm": "pcm",
    "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm", "video/x-matroska": "mkv",
    "video/3gpp": "3gp", "video/x-msvideo": "avi",
    "application/json": "json",
}
_TYPE_BY_EXTENSION = {extension: content_type for content_type, extension in EXTENSIONS.items()} | {
    "jpeg": "image/jpeg",
}

_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_QUICKTIME_BRANDS = {b"qt  "}
_3GPP_PREFIXES = (b"3gp", b"3ge", b"3gg", b"3g2")
#: Atoms an old QuickTime file (one without ``ftyp``) may start with.
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_DOCTYPE_ID = b"\x42\x82"

#: Content types whose container also carries the other kind.
_EITHER = {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/3gpp", "audio/ogg",
           "audio/mp4", "audio/webm", "audio/x-matroska"}


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a valid version, layer, bitrate and rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate not in (0b0000, 0b1111) and rate != 0b11


def _adts_frame(head: bytes) -> bool:
    """An AAC ADTS header: sync, layer 00, a valid sampling index."""
    return len(head) >= 4 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 0xF < 13


def _matroska_doctype(head: bytes) -> bytes | None:
    at = head.find(_DOCTYPE_ID, 4)
    if at < 0 or at + 3 > len(head):
        return None
    size_byte = head[at + 2]
    if not size_byte & 0x80:  # only the one-byte size form appears in practice
        return None
    size = size_byte & 0x7F
    return head[at + 3:at + 3 + size]


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or ``None`` if not a supported media type."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12])
    if head.startswith(b"ID3") or _mpeg_audio_frame(head):
        return "audio/mpeg"
    if _adts_frame(head):
        return "audio/aac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand in _AUDIO_MP4_BRANDS:
            return "audio/mp4"
        if brand in _QUICKTIME_BRANDS:
            return "video/quicktime"
        if brand.startswith(_3GPP_PREFIXES):
            return "video/3gpp"
        if brand.startswith((b"avif", b"heic", b"heix", b"mif1", b"msf1")):
            return None  # still-image formats in an ISO box; not accepted
        return "video/mp4"
    if head[4:8] in _QUICKTIME_ATOMS:
        return "video/quicktime"
    if head.startswith(_EBML_MAGIC):
        doctype = _matroska_doctype(head)
        if doctype == b"webm":
            return "video/webm"
        if doctype == b"matroska":
            return "video/x-matroska"
    return None


def content_type_from_name(name: str) -> str | None:
    """The content type a file name's (or URL path's) extension stands for, or ``None``.

    A last resort when the bytes say nothing: a name is only a claim.
    """
    return _TYPE_BY_EXTENSION.get(PurePosixPath(name).suffix.lower().removeprefix("."))


def kind_of(content_type: str | None) -> MediaKind | None:
    """``image``, ``audio`` or ``video`` for a content type; ``None`` for anything else."""
    if not content_type:
        return None
    major = content_type.split("/", 1)[0]
    return cast(MediaKind, major) if major in MEDIA_KINDS else None


def matches_kind(content_type: str | None, kind: str) -> bool:
    """Whether a file sniffed as ``content_type`` may be an asset of ``kind``.

    An audio-only MP4 or WebM sniffs as video (the bytes alone cannot tell); it may
    still be uploaded as audio, and ``probe`` then confirms an audio stream exists.
    """
    if kind_of(content_type) == kind:
        return True
    return kind in ("audio", "video") and content_type in _EITHER
