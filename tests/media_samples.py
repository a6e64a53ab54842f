"""Small real media files made on the fly for upload tests."""

from __future__ import annotations

import io
import math
import struct
import wave

from PIL import Image


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 16000, freq: float = 440.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
                          for i in range(int(seconds * rate)))
        w.writeframes(frames)
    return buf.getvalue()


def mp4_bytes(seconds: float = 2.0, fps: int = 15, size: tuple[int, int] = (320, 240), audio: bool = True) -> bytes:
    """An H.264 MP4 of a white square crossing a blue field left to right, with a 330 Hz AAC tone."""
    import av  # noqa: PLC0415 (only the video samples need PyAV)
    import numpy as np  # noqa: PLC0415

    buf = io.BytesIO()
    width, height = size
    with av.open(buf, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=44100, layout="mono") if audio else None
        frames = round(seconds * fps)
        for i in range(frames):
            pixels = np.zeros((height, width, 3), dtype=np.uint8)
            pixels[...] = (30, 60, 160)
            side = height // 3
            left = int((width - side) * i / max(frames - 1, 1))
            pixels[height // 3:height // 3 + side, left:left + side] = 255
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            t = np.arange(round(seconds * 44100)) / 44100
            tone = (0.4 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None, :]
            chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 44100, 0
            container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return buf.getvalue()
