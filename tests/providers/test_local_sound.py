"""The local provider's sound: speech (audio) and music."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from shared.media.probe import probe
from shared.media.voices import VOICES, estimate_speech_seconds
from tests.providers.local_support import (
    SPEECH,
    decode_audio,
    generate,
    high_band_share,
    median_pitch,
    onsets_per_second,
    rms,
    spectral_flux,
)

# audio -------------------------------------------------------------------------------------------



def test_audio_is_real_speech_of_plausible_length(tmp_path: Path) -> None:
    outputs = generate(tmp_path, "audio", None, {"voice_text": SPEECH, "voice_id": "narrator"})
    assert (outputs[0].content_type, outputs[0].kind) == ("audio/mpeg", "audio")
    samples, rate = decode_audio(outputs[0].path)
    seconds = samples.size / rate
    estimate = estimate_speech_seconds(SPEECH, "narrator")
    assert 0.5 * estimate < seconds <= estimate
    assert abs(probe(outputs[0].path, "audio").duration_seconds - seconds) < 0.15
    assert rms(samples) > 0.05


def test_audio_wav_output(tmp_path: Path) -> None:
    outputs = generate(tmp_path, "audio", None, {"voice_text": "Short and sweet.", "output_format": "wav"})
    assert outputs[0].content_type == "audio/wav"
    assert outputs[0].path.read_bytes()[8:12] == b"WAVE"
    samples, _ = decode_audio(outputs[0].path)
    assert rms(samples) > 0.05


def test_voices_sound_different(tmp_path: Path) -> None:
    measured = {}
    for voice_id in VOICES:
        out = generate(tmp_path / voice_id, "audio", None, {"voice_text": SPEECH, "voice_id": voice_id,
                                                             "output_format": "wav"})
        samples, rate = decode_audio(out[0].path)
        measured[voice_id] = (samples.size / rate, median_pitch(samples, rate))
        assert measured[voice_id][0] <= estimate_speech_seconds(SPEECH, voice_id)
    assert measured["casual_female"][1] > 1.3 * measured["casual_male"][1]
    assert measured["news_anchor"][1] > 1.3 * measured["narrator"][1]
    assert measured["narrator"][0] > measured["news_anchor"][0] * 1.1  # narrator speaks slower
    pairs = [(a, b) for a in measured for b in measured if a < b]
    for a, b in pairs:
        duration_gap = abs(measured[a][0] - measured[b][0]) / measured[a][0]
        pitch_gap = abs(measured[a][1] - measured[b][1]) / measured[a][1]
        assert max(duration_gap, pitch_gap) > 0.05, (a, b, measured)


def test_speech_is_repeatable_in_length(tmp_path: Path) -> None:
    params = {"voice_text": "Same words, same length.", "voice_id": "casual_male"}
    first, _ = decode_audio(generate(tmp_path / "a", "audio", None, params)[0].path)
    second, _ = decode_audio(generate(tmp_path / "b", "audio", None, params)[0].path)
    assert abs(first.size - second.size) <= 0.01 * first.size


def _speech_length(text: str) -> int:
    from workers.providers.local.speech import synthesize

    samples, _ = synthesize(text, "news_anchor")
    return int(samples.size)


def test_speech_works_in_forked_children() -> None:
    """As in a Celery prefork pool: the parent has used espeak, children keep working alike."""
    text = "Forked workers speak too."
    parent = _speech_length(text)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        children = pool.map(_speech_length, [text] * 4)
    assert all(abs(child - parent) <= 0.01 * parent for child in children), (parent, children)


# music -------------------------------------------------------------------------------------------


def test_music_has_the_requested_duration_and_character(tmp_path: Path) -> None:
    measured = {}
    for prompt in ("calm piano", "fast drums"):
        out = generate(tmp_path / prompt, "music", prompt, {"duration_seconds": 6, "seed": 1})
        assert (out[0].content_type, out[0].kind) == ("audio/mpeg", "audio")
        samples, rate = decode_audio(out[0].path)
        assert abs(samples.size / rate - 6) < 0.3
        assert abs(probe(out[0].path, "audio").duration_seconds - 6) < 0.3
        assert rms(samples) > 0.05
        measured[prompt] = (onsets_per_second(samples, rate), spectral_flux(samples),
                            high_band_share(samples, rate))
    calm, fast = measured["calm piano"], measured["fast drums"]
    assert fast[0] > 1.5 * calm[0], measured  # more attacks per second
    assert fast[1] > 2 * calm[1], measured  # a busier spectrum
    assert fast[2] > 3 * calm[2], measured  # hats and snares: far more energy above 5 kHz


def test_music_wav_and_determinism(tmp_path: Path) -> None:
    params = {"duration_seconds": 2, "seed": 9, "output_format": "wav"}
    first = generate(tmp_path / "a", "music", "happy ukulele", params)
    assert first[0].content_type == "audio/wav"
    samples, rate = decode_audio(first[0].path)
    assert abs(samples.size / rate - 2) < 0.01
    assert generate(tmp_path / "b", "music", "happy ukulele", params)[0].path.read_bytes() == \
        first[0].path.read_bytes()
