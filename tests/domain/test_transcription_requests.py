"""``POST /v1/audio/transcriptions`` translated into a ``transcription`` job request
(``shared.transcriptions``): where the audio comes from, what a repeat must match, and the
fields refused by name."""

from __future__ import annotations

import pytest

from shared import transcriptions
from shared.errors import ValidationError
from shared.transcriptions import TranscriptionBody


def _request(file_sent: bool = False, **fields):
    return transcriptions.job_request(TranscriptionBody.model_validate(fields), file_sent=file_sent)


@pytest.mark.parametrize(("file", "url"), [
    ("https://example.com/talk.wav", "https://example.com/talk.wav"),
    ("data:audio/wav;base64,UklGRg==", "data:audio/wav;base64,UklGRg=="),
    ("UklGRg==", "data:;base64,UklGRg==")])
def test_a_json_file_is_an_input_url_and_bare_base64_a_data_uri(file, url):
    request = _request(file=file, model="local/transcribe-1", language="en", metadata={"order": "7"})
    assert request.given() == {"mode": "transcription", "audio_url": url, "model": "local/transcribe-1",
                               "language": "en", "metadata": {"order": "7"}}


def test_a_multipart_file_fills_the_audio_asset_when_it_is_stored():
    request = _request(file_sent=True, webhook_url="https://example.com/hook")
    assert request.given()["audio_asset_id"] == transcriptions._PENDING_ID
    assert request.asset_fields["audio_asset_id"].kind == "audio"


@pytest.mark.parametrize(("fields", "file_sent", "param"), [
    ({}, False, "file"), ({"file": "UklGRg=="}, True, "file"),
    ({"file": "UklGRg==", "timestamp_granularities": ["word"]}, False, "timestamp_granularities"),
    ({"file": "UklGRg==", "language": "english"}, False, "language")])
def test_what_cannot_be_a_job_is_a_400_naming_the_field(fields, file_sent, param):
    with pytest.raises(ValidationError) as caught:
        _request(file_sent=file_sent, **fields)
    assert caught.value.to_dict()["error"]["param"] == param


def test_the_answer_shape_is_what_a_repeat_must_match_in_any_order():
    words_first = TranscriptionBody.model_validate({"response_format": "verbose_json",
                                                    "timestamp_granularities": ["word", "segment"]})
    segments_first = TranscriptionBody.model_validate({"response_format": "verbose_json",
                                                       "timestamp_granularities": ["segment", "word"]})
    assert transcriptions.answer_shape(words_first) == transcriptions.answer_shape(segments_first)
    assert transcriptions.answer_shape(TranscriptionBody()) == {"response_format": "json",
                                                                "timestamp_granularities": []}


def test_one_multipart_granularity_without_brackets_is_a_list_of_one():
    body = TranscriptionBody.model_validate({"timestamp_granularities": "word"}, strict=False)
    assert body.timestamp_granularities == ["word"]
