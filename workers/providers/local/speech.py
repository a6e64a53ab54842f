"""Speech synthesis with espeak-ng, through ctypes on the library ``espeakng-loader`` ships.

espeak-ng keeps global state and is not thread-safe, so one lock serialises every
call. It is initialised lazily, in whichever process first speaks: a Celery prefork
parent never loads it, and each child does so on its first job. Synchronous mode
starts no threads, so even a state inherited through ``fork`` stays valid; only the
lock is replaced in the child, since a fork can copy it in the locked state.

Every utterance starts from the same random seed, so the same text in the same voice
gives the same words at the same length; espeak's waveform generator keeps a few
internal counters between utterances that no API resets, so samples may differ slightly.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import espeakng_loader
import numpy as np

from shared.media.voices import DEFAULT_VOICE_ID, VOICES, VoiceId, as_voice_id

from ..base import GenerationFailed


@dataclass(frozen=True)
class EspeakVoice:
    #: espeak voice name: language, then ``+variant`` (a timbre file under ``voices/!v``).
    name: str
    #: Base pitch and pitch range, 0–100 (espeak's defaults are 50 and 50).
    pitch: int
    pitch_range: int


#: Every voice id, rendered by espeak-ng.
ESPEAK_VOICES: dict[VoiceId, EspeakVoice] = {
    "casual_male": EspeakVoice("en-us+m3", pitch=42, pitch_range=62),
    "casual_female": EspeakVoice("en-us+f2", pitch=60, pitch_range=72),
    "narrator": EspeakVoice("en-gb-x-rp+m1", pitch=34, pitch_range=45),
    "news_anchor": EspeakVoice("en-us+f4", pitch=52, pitch_range=38),
}

# espeak.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4

_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
#: Peak level speech is normalised to (-1 dBFS), so every voice is equally loud.
_PEAK = 0.89
#: Speaking rates espeak-ng accepts (words per minute), and what one ``atempo`` filter does.
_MIN_RATE, _MAX_RATE = 80, 450
_MIN_TEMPO, _MAX_TEMPO = 0.5, 100.0


class _Espeak:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lib: ctypes.CDLL | None = None
        self.sample_rate = 0
        self._chunks: list[np.ndarray] = []
        self._callback = _Callback(self._collect)  # kept referenced for the library's lifetime

    def _collect(self, wav: ctypes.Array, count: int, events: int | None) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0 = continue

    def _load(self) -> ctypes.CDLL:
        if self.lib is None:
            path = Path(espeakng_loader.get_library_path())
            lib = ctypes.CDLL(str(path))
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                         ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                         espeakng_loader.get_data_path().encode(), 0)
            if rate <= 0:
                raise GenerationFailed("espeak-ng failed to initialise")
            lib.espeak_SetSynthCallback(self._callback)
            self.lib, self.sample_rate = lib, rate
        return self.lib

    def speak(self, text: str, voice: EspeakVoice, words_per_minute: int) -> np.ndarray:
        """One utterance, from a fixed random seed."""
        with self.lock:
            lib = self._load()
            lib.espeak_ng_SetRandSeed(1)
            if lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise GenerationFailed(f"espeak-ng has no voice {voice.name!r}")
            for parameter, value in ((_RATE, words_per_minute), (_VOLUME, 100), (_PITCH, voice.pitch),
                                     (_RANGE, voice.pitch_range)):
                lib.espeak_SetParameter(parameter, value, 0)
            data = text.encode("utf-8")
            self._chunks = []
            status = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if status != 0:
            raise GenerationFailed(f"espeak-ng synthesis failed (status {status})")
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


_engine = _Espeak()


def _reset_lock_after_fork() -> None:
    _engine.lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _rates(words_per_minute: int, speed: float) -> tuple[int, float]:
    """espeak's rate for ``speed`` × the voice's own, within what espeak-ng speaks (80–450 words
    per minute), and the time-stretch factor that makes up the rest."""
    wanted = words_per_minute * speed
    spoken = int(round(min(max(wanted, _MIN_RATE), _MAX_RATE)))
    return spoken, wanted / spoken


def _stretch(samples: np.ndarray, rate: int, tempo: float) -> np.ndarray:
    """Play ``samples`` ``tempo`` times as fast without changing pitch (FFmpeg's ``atempo``)."""
    if abs(tempo - 1.0) < 1e-3:
        return samples
    steps = 1
    while not _MIN_TEMPO <= tempo ** (1 / steps) <= _MAX_TEMPO:
        steps += 1  # atempo takes 0.5–100 per instance: chain equal steps for anything slower
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono", time_base=Fraction(1, rate))
    chain = [source, *(graph.add("atempo", f"{tempo ** (1 / steps):.6f}") for _ in range(steps)),
             graph.add("abuffersink")]
    graph.link_nodes(*chain).configure()
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
    frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
    out: list[np.ndarray] = []
    for pushed in (frame, None):
        source.push(pushed)
        while True:
            try:
                pulled = cast(av.AudioFrame, chain[-1].pull())
                out.append(pulled.to_ndarray().reshape(-1))
            except (av.BlockingIOError, av.EOFError):
                break
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def synthesize(text: str, voice_id: str = DEFAULT_VOICE_ID,
               progress: Callable[[float], None] | None = None, speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak ``text`` at ``speed`` (0.25–4) times the voice's own pace; returns mono float32
    samples in [-1, 1] and their sample rate.

    Sentences are synthesised one at a time so ``progress`` (0–1) can be reported, and
    cancellation noticed, between them. espeak-ng speaks as fast or slow as it can; a speed past
    its range is made up by time-stretching the result.
    """
    known = as_voice_id(voice_id)
    if known is None:
        raise GenerationFailed(f"unknown voice_id {voice_id!r}")
    voice = ESPEAK_VOICES[known]
    words_per_minute, tempo = _rates(VOICES[known].words_per_minute, speed)
    sentences = [s.strip() for s in _SENTENCE_END.split(text.replace("\x00", " ")) if s.strip()]
    if not sentences:
        raise GenerationFailed("voice_text has nothing to say")
    parts = []
    for i, sentence in enumerate(sentences):
        parts.append(_engine.speak(sentence, voice, words_per_minute))
        if progress is not None:
            progress((i + 1) / len(sentences))
    pcm = _stretch(np.concatenate(parts).astype(np.float32) / 32768.0, _engine.sample_rate, tempo)
    peak = float(np.abs(pcm).max()) if pcm.size else 0.0
    if peak > 0:
        pcm *= _PEAK / peak
    return pcm, _engine.sample_rate
