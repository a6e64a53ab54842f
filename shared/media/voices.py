"""The public voice catalog (``GET /v1/voices``) and a speech-length estimate.

The one list of voice ids: requests are checked against ``VoiceId``, the catalog shows
``VOICES``, and each provider maps every ``VoiceId`` to its own voice.

``estimate_speech_seconds`` sizes the credit hold before any audio exists, so it
leans long: a hold that is slightly too big is released, one that is too small is not.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal, cast, get_args

VoiceId = Literal["casual_male", "casual_female", "narrator", "news_anchor"]
VOICE_IDS: tuple[VoiceId, ...] = get_args(VoiceId)


@dataclass(frozen=True)
class Voice:
    id: VoiceId
    name: str
    description: str
    gender: str
    language: str
    #: Speaking rate the local synthesizer uses; also drives the duration estimate.
    words_per_minute: int

    def public(self) -> dict[str, str]:
        """The fields the API shows."""
        data = asdict(self)
        del data["words_per_minute"]
        return data


VOICES: dict[VoiceId, Voice] = {
    voice.id: voice
    for voice in (
        Voice("casual_male", "Casual (male)", "Relaxed, conversational American male voice.",
              "male", "en-US", 165),
        Voice("casual_female", "Casual (female)", "Relaxed, conversational American female voice.",
              "female", "en-US", 165),
        Voice("narrator", "Narrator", "Measured, low British male voice for storytelling and documentaries.",
              "male", "en-GB", 145),
        Voice("news_anchor", "News anchor", "Brisk, clear American female voice with an even delivery.",
              "female", "en-US", 185),
    )
}
DEFAULT_VOICE_ID: VoiceId = "narrator"
assert tuple(VOICES) == VOICE_IDS



def as_voice_id(value: str) -> VoiceId | None:
    """``value`` as a known voice id, or None."""
    return cast(VoiceId, value) if value in VOICES else None


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d")
_PAUSES = re.compile(r"[.!?;:]+|[,\u2014\u2013(]|\n")

#: Fitted to the local synthesizer's output, in seconds at 100 words per minute: per letter
#: and per word; then per pause mark and a fixed lead; then a small safety margin.
_PER_LETTER = 0.095
_PER_WORD = 0.1
_PER_PAUSE = 0.22
_LEAD = 0.3
_MARGIN = 1.05


def estimate_speech_seconds(text: str, voice_id: str, speed: float = 1.0) -> float:
    """How long ``text`` takes to say in ``voice_id`` at ``speed`` times its pace, rounded up a little."""
    voice = VOICES[as_voice_id(voice_id) or DEFAULT_VOICE_ID]
    words = _WORD.findall(text)
    letters = sum(len(word) for word in words)
    # Numbers are read out ("1984" → "nineteen eighty-four"): count each digit as nine letters.
    letters += 8 * len(_DIGITS.findall(text))
    pace = 100 / voice.words_per_minute
    seconds = (letters * _PER_LETTER + len(words) * _PER_WORD) * pace
    seconds += len(_PAUSES.findall(text)) * _PER_PAUSE + _LEAD
    return round(seconds * _MARGIN / speed, 2)
