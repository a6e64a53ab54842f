"""Helpers for the local provider's render tests: a recording job context, a sample portrait,
and measurements of rendered sound."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from workers.providers.base import GenerationRequest, InputFile, JobAborted
from workers.providers.local import LocalProvider


class FakeContext:
    """Records progress; raises ``JobAborted`` from the ``abort_at``-th progress call on."""

    def __init__(self, workdir: Path, abort_at: int | None = None) -> None:
        self.workdir = workdir
        self.abort_at = abort_at
        self.reports: list[float] = []

    def progress(self, percent: float) -> None:
        self.reports.append(percent)
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if self.abort_at is not None and len(self.reports) >= self.abort_at:
            raise JobAborted()


def generate(tmp_path: Path, mode: str, prompt: str | None = None, params: dict | None = None,
             inputs: dict[str, InputFile] | None = None, ctx: FakeContext | None = None):
    ctx = ctx or FakeContext(tmp_path / "work")
    request = GenerationRequest("job_test", mode, "local/test", "test", prompt, params or {}, inputs or {})
    return LocalProvider().generate(request, ctx)


def image_input(path: Path) -> InputFile:
    return InputFile("image", "ast_img", "image", "image/jpeg", path)


SPEECH = "Welcome to Atelier. This sentence is spoken by a real speech synthesizer."


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples and rate of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                  for out in resampler.resample(frame)]
    return np.concatenate(chunks), rate


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def median_pitch(samples: np.ndarray, rate: int) -> float:
    """Median autocorrelation pitch (60–400 Hz) over the loud 40 ms frames."""
    size = int(rate * 0.04)
    pitches = []
    threshold = rms(samples) * 0.8
    for start in range(0, samples.size - size, size):
        frame = samples[start:start + size]
        if rms(frame) < threshold:
            continue
        frame = frame - frame.mean()
        corr = np.correlate(frame, frame, "full")[size - 1:]
        lo, hi = rate // 400, rate // 60
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.3 * corr[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


def onsets_per_second(samples: np.ndarray, rate: int) -> float:
    """How often the loudness jumps by more than 4 dB from one 12 ms frame to the next."""
    size = 512
    frames = samples[: samples.size // size * size].reshape(-1, size)
    level = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-4)
    rise = np.diff(level) > 4
    return float((rise[1:] & ~rise[:-1]).sum()) / (samples.size / rate)


def spectral_flux(samples: np.ndarray) -> float:
    """Mean positive change of the log spectrum between frames: how much keeps changing."""
    size, hop = 1024, 512
    frames = np.lib.stride_tricks.sliding_window_view(samples, size)[::hop] * np.hanning(size)
    spectrum = np.log1p(np.abs(np.fft.rfft(frames, axis=1)))
    return float(np.maximum(np.diff(spectrum, axis=0), 0).mean())


def high_band_share(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    return float(spectrum[freqs > 5000].sum() / spectrum.sum())


def video_streams(path: Path) -> dict:
    with av.open(str(path)) as container:
        info = {"duration": container.duration / av.time_base, "video": None, "audio": None}
        if container.streams.video:
            stream = container.streams.video[0]
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
            info["video"] = {"codec": stream.codec_context.name, "width": stream.codec_context.width,
                             "height": stream.codec_context.height, "fps": float(stream.average_rate),
                             "frames": frames}
    with av.open(str(path)) as container:
        if container.streams.audio:
            info["audio"] = {"codec": container.streams.audio[0].codec_context.name}
    return info
