"""The local voice in every output format, at every speed: what the audio mode and
``POST /v1/audio/speech`` promise (OpenAI's formats; ``speed`` 0.25–4 changes the duration)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.media.probe import PCM_RATE, RAW_PCM, probe
from shared.media.sniff import sniff_content_type
from shared.media.voices import estimate_speech_seconds
from tests.providers.local_support import SPEECH, decode_audio, generate, median_pitch, rms
from workers.providers.local.encode import read_audio

SNIFFED = {"mp3": "audio/mpeg", "wav": "audio/wav", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> float:
    out = generate(tmp_path_factory.mktemp("ref"), "audio", None, {"voice_text": SPEECH, "output_format": "wav"})
    return probe(out[0].path, "audio").duration_seconds or 0.0


@pytest.mark.parametrize("fmt", list(SNIFFED))
def test_each_container_format_decodes_to_speech_of_the_same_length(tmp_path: Path, fmt: str,
                                                                      reference: float) -> None:
    (out,) = generate(tmp_path, "audio", None, {"voice_text": SPEECH, "output_format": fmt})
    assert out.content_type == SNIFFED[fmt] and out.path.suffix == f".{fmt}"
    assert sniff_content_type(out.path.read_bytes()[:64]) == SNIFFED[fmt]
    samples, rate = decode_audio(out.path)
    assert abs(samples.size / rate - reference) < 0.15
    assert rms(samples) > 0.05
    assert abs((probe(out.path, "audio").duration_seconds or 0) - reference) < 0.15


def test_pcm_is_raw_16_bit_mono_at_24_khz(tmp_path: Path, reference: float) -> None:
    (out,) = generate(tmp_path, "audio", None, {"voice_text": SPEECH, "output_format": "pcm"})
    assert out.content_type == RAW_PCM
    data = out.path.read_bytes()
    assert len(data) % 2 == 0 and sniff_content_type(data[:64]) is None
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
    assert abs(samples.size / PCM_RATE - reference) < 0.05
    assert rms(samples) > 0.05
    assert probe(out.path, "audio", content_type=RAW_PCM).duration_seconds == round(samples.size / PCM_RATE, 3)
    # A pcm result can be an input again (a talking clip's voice, a transcription).
    assert abs(read_audio(out.path, 16000).size / 16000 - reference) < 0.05


@pytest.mark.parametrize("speed", [0.25, 0.5, 2.0, 4.0])
def test_speed_changes_the_duration_not_the_voice(tmp_path: Path, speed: float, reference: float) -> None:
    (out,) = generate(tmp_path, "audio", None, {"voice_text": SPEECH, "output_format": "wav", "speed": speed})
    samples, rate = decode_audio(out.path)
    seconds = samples.size / rate
    # espeak-ng's pauses do not scale exactly with its rate: within 20 % of the ideal.
    assert 0.8 * reference / speed < seconds < 1.2 * reference / speed
    assert seconds <= estimate_speech_seconds(SPEECH, "narrator", speed)  # the hold covers it
    assert rms(samples) > 0.05
    if speed <= 2:  # time-stretching keeps the pitch (a pitch tracker needs voiced stretches)
        (normal,) = generate(tmp_path / "n", "audio", None, {"voice_text": SPEECH, "output_format": "wav"})
        base, base_rate = decode_audio(normal.path)
        assert abs(median_pitch(samples, rate) / median_pitch(base, base_rate) - 1) < 0.2
