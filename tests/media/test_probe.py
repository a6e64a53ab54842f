"""Sniffing, probing and the voice catalog, against real files made on the spot."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from shared.media.probe import MediaDecodeError, MediaInfo, probe
from shared.media.sniff import SNIFF_BYTES, kind_of, matches_kind, sniff_content_type
from shared.media.voices import DEFAULT_VOICE_ID, VOICES, estimate_speech_seconds

# Builders ----------------------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(buffer, format=fmt)
    return buffer.getvalue()


def write_audio(path: Path, fmt: str | None, codec: str, seconds: float = 1.0, rate: int = 48000,
                sample_format: str = "fltp") -> Path:
    """A 440 Hz tone in ``codec`` inside container ``fmt``."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        if sample_format.startswith("s16"):
            tone = (tone * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(tone, format=sample_format, layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_video(path: Path, fmt: str | None, codec: str = "libx264", seconds: float = 1.0,
                size: tuple[int, int] = (64, 48), audio_codec: str | None = "aac") -> Path:
    with av.open(str(path), "w", format=fmt) as container:
        video = container.add_stream(codec, rate=24)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        audio = container.add_stream(audio_codec, rate=48000, layout="mono") if audio_codec else None
        for i in range(int(seconds * 24)):
            pixels = np.full((size[1], size[0], 3), (i * 10) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            samples = np.zeros((1, int(seconds * 48000)), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, 0
            container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    files = {
        "mp3": write_audio(d / "a.mp3", "mp3", "libmp3lame", seconds=2.0, rate=44100),
        "wav": write_audio(d / "a.wav", "wav", "pcm_s16le", seconds=1.5, sample_format="s16"),
        "ogg": write_audio(d / "a.ogg", "ogg", "libopus"),
        "flac": write_audio(d / "a.flac", "flac", "flac", sample_format="s16"),
        "m4a": write_audio(d / "a.m4a", "ipod", "aac"),
        "mp4_audio_only": write_audio(d / "audio.mp4", "mp4", "aac"),
        "webm_audio_only": write_audio(d / "audio.webm", "webm", "libopus"),
        "mp4": write_video(d / "v.mp4", "mp4", seconds=2.0),
        "mov": write_video(d / "v.mov", "mov"),
        "webm": write_video(d / "v.webm", "webm", codec="libvpx-vp9", audio_codec="libopus", seconds=0.5),
        "mkv": write_video(d / "v.mkv", "matroska", audio_codec="flac"),
        "mp4_silent": write_video(d / "silent.mp4", "mp4", audio_codec=None),
    }
    for fmt, name in (("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")):
        files[name] = d / f"i.{name}"
        files[name].write_bytes(image_bytes(fmt))
    return files


def head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


# Sniffing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp"), ("gif", "image/gif"),
    ("mp3", "audio/mpeg"), ("wav", "audio/wav"), ("ogg", "audio/ogg"), ("flac", "audio/flac"),
    ("m4a", "audio/mp4"), ("mp4", "video/mp4"), ("mov", "video/quicktime"), ("webm", "video/webm"),
    ("mkv", "video/x-matroska"),
])
def test_sniff_recognises_each_format(media: dict[str, Path], name: str, expected: str) -> None:
    assert sniff_content_type(head(media[name])) == expected


def test_sniff_recognises_bare_mpeg_audio_frames() -> None:
    assert sniff_content_type(b"\xff\xfb\x90\x64" + b"\0" * 60) == "audio/mpeg"  # MPEG-1 layer III
    assert sniff_content_type(b"\xff\xf1\x50\x80" + b"\0" * 60) == "audio/aac"  # ADTS
    assert sniff_content_type(b"\xff\xff\xff\xff" + b"\0" * 60) is None


@pytest.mark.parametrize("data", [
    b"<!DOCTYPE html><html><head><title>x</title></head><body><img src=a.png></body></html>",
    b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
    b"%PDF-1.7\n", b"PK\x03\x04zipfile", b"", b"\x89PN", b"RIFF\x00\x00\x00\x00AVIX",
    b"GIF8", b"\x1a\x45\xdf\xa3\x01\x00\x00\x00", b"\x00\x00\x00\x1cftypavif",
])
def test_sniff_rejects_non_media(data: bytes) -> None:
    assert sniff_content_type(data) is None
    assert kind_of(sniff_content_type(data)) is None


def test_html_bytes_are_not_an_image() -> None:
    html = b"<html><body>definitely a PNG, trust me</body></html>"
    assert kind_of(sniff_content_type(html)) != "image"


def test_kind_of() -> None:
    assert kind_of("image/png") == "image"
    assert kind_of("audio/mpeg") == "audio"
    assert kind_of("video/webm") == "video"
    assert kind_of("text/html") is None
    assert kind_of(None) is None


def test_matches_kind_allows_audio_in_video_containers() -> None:
    assert matches_kind("video/mp4", "audio")
    assert matches_kind("video/webm", "audio")
    assert matches_kind("audio/mpeg", "audio")
    assert not matches_kind("image/png", "audio")
    assert not matches_kind("video/mp4", "image")
    assert not matches_kind("audio/mpeg", "video")


# Probing -----------------------------------------------------------------------------------------


def test_probe_image_dimensions(media: dict[str, Path]) -> None:
    for name, content_type in (("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp"),
                               ("gif", "image/gif")):
        info = probe(media[name], "image")
        assert info == MediaInfo(content_type=content_type, width=40, height=30)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring a huge image, with only a token of pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def test_probe_reports_the_size_of_huge_images_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(30_000, 30_000))  # 900 MP, beyond Pillow's own bomb limit
    info = probe(path, "image")
    assert (info.width, info.height) == (30_000, 30_000)


def test_probe_rejects_non_images(tmp_path: Path, media: dict[str, Path]) -> None:
    html = tmp_path / "page.png"
    html.write_bytes(b"<html><body>hello</body></html>")
    with pytest.raises(MediaDecodeError):
        probe(html, "image")
    with pytest.raises(MediaDecodeError):
        probe(media["mp3"], "image")


@pytest.mark.parametrize(("name", "content_type", "seconds"), [
    ("mp3", "audio/mpeg", 2.0), ("wav", "audio/wav", 1.5), ("ogg", "audio/ogg", 1.0),
    ("flac", "audio/flac", 1.0), ("m4a", "audio/mp4", 1.0), ("mp4_audio_only", "audio/mp4", 1.0),
    ("webm_audio_only", "audio/webm", 1.0),
])
def test_probe_audio(media: dict[str, Path], name: str, content_type: str, seconds: float) -> None:
    info = probe(media[name], "audio")
    assert info.content_type == content_type
    assert info.has_audio and not info.has_video
    assert info.width is None and info.height is None
    assert info.duration_seconds == pytest.approx(seconds, abs=0.08)


@pytest.mark.parametrize(("name", "content_type", "seconds", "has_audio"), [
    ("mp4", "video/mp4", 2.0, True), ("mov", "video/quicktime", 1.0, True), ("webm", "video/webm", 0.5, True),
    ("mkv", "video/x-matroska", 1.0, True), ("mp4_silent", "video/mp4", 1.0, False),
])
def test_probe_video(media: dict[str, Path], name: str, content_type: str, seconds: float,
                     has_audio: bool) -> None:
    info = probe(media[name], "video")
    assert info.content_type == content_type
    assert (info.width, info.height) == (64, 48)
    assert info.has_video and info.has_audio == has_audio
    assert info.duration_seconds == pytest.approx(seconds, abs=0.1)


def test_probe_audio_track_of_a_video(media: dict[str, Path]) -> None:
    info = probe(media["mp4"], "audio")
    assert info.has_audio and info.has_video
    assert info.content_type == "video/mp4"
    assert info.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_probe_requires_the_stream_of_the_kind(media: dict[str, Path]) -> None:
    with pytest.raises(MediaDecodeError):
        probe(media["mp4_silent"], "audio")
    with pytest.raises(MediaDecodeError):
        probe(media["mp3"], "video")


def _corrupt_variants(media: dict[str, Path]) -> dict[str, bytes]:
    mp3, wav = media["mp3"].read_bytes(), media["wav"].read_bytes()
    noise = np.random.default_rng(0).bytes(20_000)
    return {
        "html_named_mp3": b"<!DOCTYPE html><html><body>not audio</body></html>" * 50,
        "id3_then_noise": b"ID3\x04\x00\x00\x00\x00\x00\x00" + noise,
        "mp3_frames_zeroed": mp3[:10] + bytes(len(mp3) - 10),
        "wav_truncated_header": wav[:30],
        "wav_header_without_data": wav[:44],
        "noise": noise,
        "empty": b"",
    }


def test_corrupt_audio_raises_media_decode_error(tmp_path: Path, media: dict[str, Path]) -> None:
    for name, data in _corrupt_variants(media).items():
        path = tmp_path / f"{name}.mp3"
        path.write_bytes(data)
        with pytest.raises(MediaDecodeError):
            probe(path, "audio")


def test_truncated_video_raises_media_decode_error(tmp_path: Path, media: dict[str, Path]) -> None:
    path = tmp_path / "cut.mp4"
    path.write_bytes(media["mp4"].read_bytes()[:3000])
    with pytest.raises(MediaDecodeError):
        probe(path, "video")


def test_probe_falls_back_to_packet_timestamps(tmp_path: Path) -> None:
    """A raw ADTS stream declares no duration; it is measured from its packets."""
    path = write_audio(tmp_path / "a.aac", "adts", "aac", seconds=3.0)
    info = probe(path, "audio")
    assert info.content_type == "audio/aac"
    assert info.duration_seconds == pytest.approx(3.0, abs=0.1)


# Voices ------------------------------------------------------------------------------------------


def test_voice_catalog() -> None:
    assert {"casual_male", "casual_female", "narrator", "news_anchor"} <= set(VOICES)
    assert DEFAULT_VOICE_ID in VOICES
    for voice_id, voice in VOICES.items():
        assert voice.id == voice_id
        public = voice.public()
        assert set(public) == {"id", "name", "description", "gender", "language"}
        assert public["gender"] in ("male", "female")


def test_speech_estimate_grows_with_text_and_slower_voices() -> None:
    short = estimate_speech_seconds("Hello.", "narrator")
    long = estimate_speech_seconds("Hello. " + "This is a much longer sentence to read. " * 5, "narrator")
    assert 0 < short < long
    sentence = "The quick brown fox jumps over the lazy dog."
    assert estimate_speech_seconds(sentence, "narrator") > estimate_speech_seconds(sentence, "news_anchor")
    assert estimate_speech_seconds("I was born in 1984.", "narrator") > \
        estimate_speech_seconds("I was born in May.", "narrator")
    assert estimate_speech_seconds(sentence, "unknown_voice") == estimate_speech_seconds(sentence, DEFAULT_VOICE_ID)
