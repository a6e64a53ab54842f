"""A stored transcript (``{"text", "language", "duration", "segments": [{"id", "start", "end",
"text", "words": [{"word", "start", "end"}]}]}``) in OpenAI's response formats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("segment", "word")
CONTENT_TYPES = {"text": "text/plain; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
                 "vtt": "text/vtt; charset=utf-8"}


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(max(seconds, 0.0) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def srt(transcript: dict[str, Any]) -> str:
    cues = [f"{i}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['text']}\n"
            for i, s in enumerate(transcript["segments"], 1)]
    return "\n".join(cues)


def vtt(transcript: dict[str, Any]) -> str:
    cues = [f"{_clock(s['start'], '.')} --> {_clock(s['end'], '.')}\n{s['text']}\n" for s in transcript["segments"]]
    return "WEBVTT\n\n" + "\n".join(cues)


def verbose(transcript: dict[str, Any], granularities: Sequence[str]) -> dict[str, Any]:
    """OpenAI's ``verbose_json``: segments unless only words were asked for, words if asked for."""
    body: dict[str, Any] = {"task": "transcribe", "language": transcript["language"],
                            "duration": transcript["duration"], "text": transcript["text"]}
    if "segment" in granularities or not granularities:
        body["segments"] = [{"id": s["id"], "seek": 0, "start": s["start"], "end": s["end"], "text": s["text"],
                             "tokens": [], "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0,
                             "no_speech_prob": 0.0} for s in transcript["segments"]]
    if "word" in granularities:
        body["words"] = [w for s in transcript["segments"] for w in s["words"]]
    return body


def render(transcript: dict[str, Any], response_format: str, granularities: Sequence[str],
           usage: dict[str, Any]) -> dict[str, Any] | str:
    """JSON formats as a dict (with ``usage``); ``text``, ``srt`` and ``vtt`` as text."""
    if response_format == "text":
        return transcript["text"] + "\n"
    if response_format == "srt":
        return srt(transcript)
    if response_format == "vtt":
        return vtt(transcript)
    if response_format == "verbose_json":
        return {**verbose(transcript, granularities), "usage": usage}
    return {"text": transcript["text"], "usage": usage}
