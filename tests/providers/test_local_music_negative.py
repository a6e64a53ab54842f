"""music's negative prompt: named instruments never play (another takes the part, or none)."""

from __future__ import annotations

from pathlib import Path

from tests.providers.local_support import decode_audio, generate, high_band_share, onsets_per_second
from workers.providers.local.prompt import words_of
from workers.providers.local.score import DRUM_VOICES, compose, style_for, unwanted_instruments


def instruments(prompt: str, negative: str | None, seed: int = 1) -> tuple[str, str, set[str]]:
    words = words_of(prompt)
    style = style_for(words, seed, words_of(negative))
    return style.lead, style.harmony, {e.instrument for e in compose(style, 20, seed, words)}


def test_negative_words_name_instruments():
    assert unwanted_instruments(words_of("drums")) == DRUM_VOICES
    assert unwanted_instruments(words_of("no piano, no strings or bass")) == {"piano", "pad", "bass"}
    assert unwanted_instruments(words_of("loud")) == frozenset()


def test_an_unwanted_instrument_never_plays():
    lead, harmony, played = instruments("calm piano", None)
    assert lead == harmony == "piano" and "piano" in played
    lead, harmony, played = instruments("calm piano", "piano")
    assert "piano" not in {lead, harmony} | played and lead in played
    _, _, played = instruments("fast drums and bass", None)
    assert {"kick", "bass"} <= played
    _, _, played = instruments("fast drums and bass", "drums, bass")
    assert not played & (DRUM_VOICES | {"bass"}) and played


def test_music_without_drums_is_calmer_and_darker(tmp_path: Path) -> None:
    params = {"duration_seconds": 6, "seed": 2, "output_format": "wav"}
    busy = decode_audio(generate(tmp_path / "a", "music", "fast drums with piano", params)[0].path)
    quiet = decode_audio(generate(tmp_path / "b", "music", "fast drums with piano",
                                  {**params, "negative_prompt": "drums"})[0].path)
    assert high_band_share(*quiet) < high_band_share(*busy) / 2
    assert onsets_per_second(*quiet) < onsets_per_second(*busy)
