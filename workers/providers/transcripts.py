"""Upstream speech recognisers' answers as Atelier's stored transcript (``shared.media.transcripts``:
``{"text", "language", "duration", "segments": [{"id", "start", "end", "text", "words"}]}``), so
every ``response_format`` renders the same whichever model heard the audio."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workers.providers.base import GenerationFailed, Output


def _seconds(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _segment(index: int, start: float, end: float, text: str) -> dict[str, Any]:
    return {"id": index, "start": round(start, 3), "end": round(max(end, start), 3), "text": text.strip(),
            "words": []}


def _place_words(segments: list[dict[str, Any]], words: Sequence[Any]) -> None:
    """Give each word to the segment its start falls in (the last one that started before it)."""
    for raw in words:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("word"), str):
            continue
        start = _seconds(raw.get("start"), 0.0)
        word = {"word": raw["word"].strip(), "start": round(start, 3),
                "end": round(_seconds(raw.get("end"), start), 3)}
        owner = next((s for s in reversed(segments) if s["start"] <= start), segments[0])
        owner["words"].append(word)


def from_openai(answer: Any, duration: float) -> dict[str, Any]:
    """OpenAI's ``verbose_json`` (``text``, ``language``, ``duration``, ``segments``, ``words``)."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("text"), str):
        raise GenerationFailed("openai: the transcription answer has no text")
    length = _seconds(answer.get("duration"), duration)
    segments = [_segment(i, _seconds(s.get("start"), 0.0), _seconds(s.get("end"), length), str(s.get("text", "")))
                for i, s in enumerate(answer.get("segments") or []) if isinstance(s, Mapping)]
    if not segments and answer["text"].strip():
        segments = [_segment(0, 0.0, length, answer["text"])]
    if segments:
        _place_words(segments, answer.get("words") or [])
    return {"text": answer["text"].strip(), "language": str(answer.get("language") or "unknown"),
            "duration": length, "segments": segments}


def from_fal(result: Any, duration: float) -> dict[str, Any]:
    """fal's whisper output: ``text``, ``chunks`` of ``{timestamp: [start, end], text}`` (the last
    end may be null: the end of the audio), ``inferred_languages``. It gives no word times."""
    if not isinstance(result, Mapping) or not isinstance(result.get("text"), str):
        raise GenerationFailed("fal: the transcription result has no text")
    segments: list[dict[str, Any]] = []
    for chunk in result.get("chunks") or []:
        stamp = chunk.get("timestamp") if isinstance(chunk, Mapping) else None
        if not isinstance(stamp, Sequence) or len(stamp) != 2:
            continue
        start = _seconds(stamp[0], 0.0)
        segments.append(_segment(len(segments), start, _seconds(stamp[1], duration), str(chunk.get("text", ""))))
    if not segments and result["text"].strip():
        segments = [_segment(0, 0.0, duration, result["text"])]
    languages = result.get("inferred_languages") or []
    language = languages[0] if languages and isinstance(languages[0], str) else "unknown"
    return {"text": result["text"].strip(), "language": language, "duration": duration, "segments": segments}


def write(transcript: Mapping[str, Any], workdir: Path) -> Output:
    """The transcript as the job's one output (a JSON asset of kind ``text``)."""
    path = workdir / "transcript.json"
    path.write_text(json.dumps(transcript))
    return Output(path, "application/json", "text")
