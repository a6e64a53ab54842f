"""The offline recogniser (PocketSphinx) on speech Atelier synthesises itself, and the
transcript formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shared.media import transcripts
from workers.providers.base import JobAborted
from workers.providers.local.encode import resample, write_audio
from workers.providers.local.speech import synthesize
from workers.providers.local.transcribe import RATE, transcribe, transcribe_samples

# PocketSphinx's general English model is modest on synthetic speech; counting is what it
# recognises reliably in espeak's en-us voice.
SPOKEN = "One two three four five."


@pytest.fixture(scope="module")
def spoken() -> np.ndarray:
    pcm, rate = synthesize(SPOKEN, "casual_male")
    return resample(pcm, rate, RATE)


def test_synthesised_speech_comes_back_as_its_words_with_timestamps(spoken):
    transcript = transcribe_samples(spoken)
    assert "one two three" in transcript.text
    assert transcript.duration == pytest.approx(spoken.shape[0] / RATE, abs=0.01)
    words = transcript.words
    assert [w.word for w in words][:3] == ["one", "two", "three"]
    starts = [w.start for w in words]
    assert starts == sorted(starts) and all(w.start < w.end <= transcript.duration + 0.05 for w in words)
    for segment in transcript.segments:
        assert segment.start <= segment.words[0].start and segment.words[-1].end <= segment.end + 0.05


def test_any_audio_pyav_decodes_is_resampled_to_16_khz_mono(tmp_path):
    pcm, rate = synthesize(SPOKEN, "casual_male")
    stereo = np.stack([pcm, pcm], axis=1)  # 22.05 kHz stereo MP3
    write_audio(tmp_path / "speech.mp3", stereo, rate, "mp3")
    transcript = transcribe(tmp_path / "speech.mp3")
    assert "one two three" in transcript.text


def test_a_cancelled_job_stops_the_recogniser_process(tmp_path, spoken):
    write_audio(tmp_path / "speech.wav", np.concatenate([spoken, np.zeros(RATE, np.float32), spoken]), RATE, "wav")

    def cancel() -> None:
        raise JobAborted("job_test")

    with pytest.raises(JobAborted):
        transcribe(tmp_path / "speech.wav", check_cancelled=cancel)
    assert list(tmp_path.iterdir()) == [tmp_path / "speech.wav"]  # its PCM copy is gone too


def test_silence_is_an_empty_transcript():
    transcript = transcribe_samples(np.zeros(RATE * 2, dtype=np.float32))
    assert (transcript.text, transcript.segments, transcript.duration) == ("", [], 2.0)


STORED = {"text": "hello there general", "language": "english", "duration": 3.5, "segments": [
    {"id": 0, "start": 0.25, "end": 1.0, "text": "hello there", "words": [
        {"word": "hello", "start": 0.25, "end": 0.6}, {"word": "there", "start": 0.6, "end": 1.0}]},
    {"id": 1, "start": 61.5, "end": 3723.25, "text": "general", "words": [
        {"word": "general", "start": 61.5, "end": 3723.25}]}]}


def test_srt_and_vtt_cues_follow_the_segments():
    assert transcripts.srt(STORED) == ("1\n00:00:00,250 --> 00:00:01,000\nhello there\n\n"
                                       "2\n00:01:01,500 --> 01:02:03,250\ngeneral\n")
    assert transcripts.vtt(STORED) == ("WEBVTT\n\n00:00:00.250 --> 00:00:01.000\nhello there\n\n"
                                       "00:01:01.500 --> 01:02:03.250\ngeneral\n")


def test_verbose_json_gives_segments_and_words_as_asked():
    usage = {"type": "duration", "seconds": 3.5, "credits_used": 1}
    both = transcripts.render(STORED, "verbose_json", ["segment", "word"], usage)
    assert isinstance(both, dict) and [s["text"] for s in both["segments"]] == ["hello there", "general"]
    assert [w["word"] for w in both["words"]] == ["hello", "there", "general"]
    words_only = transcripts.render(STORED, "verbose_json", ["word"], usage)
    assert isinstance(words_only, dict) and "segments" not in words_only and words_only["usage"] == usage
    assert transcripts.render(STORED, "text", [], usage) == "hello there general\n"
    assert json.loads(json.dumps(transcripts.render(STORED, "json", [], usage))) == {
        "text": "hello there general", "usage": usage}
