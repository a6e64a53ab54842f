"""Composing a piece from a prompt: style, chords, bass line, melody and drums as note events.

The prompt's words set tempo, mode, instruments and drum density ("calm piano" is
slow, sparse and drumless; "fast drums" is quick and busy); a negative prompt's words leave
instruments out ("drums", "piano", "bass"…: another instrument takes the part, or none plays
it); the seed picks the key,
progression, motifs and the many small choices within that style.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .prompt import has_any, rng_for, score

_CALM = frozenset({"calm", "relaxing", "relax", "ambient", "peaceful", "slow", "gentle", "soft", "sleep",
                   "meditation", "serene", "quiet", "tranquil", "lullaby", "dreamy", "mellow"})
_FAST = frozenset({"fast", "energetic", "upbeat", "dance", "techno", "edm", "party", "running", "workout",
                   "action", "intense", "rock", "epic", "hype", "drum", "beat", "house", "trance", "chase"})
_CHILL = frozenset({"chill", "lofi", "lo", "hip", "hop", "jazz", "jazzy", "groove", "funk", "funky"})
_FOUR_ON_FLOOR = frozenset({"dance", "techno", "edm", "house", "trance", "disco", "club"})
_MINOR = frozenset({"sad", "melancholy", "melancholic", "dark", "minor", "mysterious", "tense", "lonely",
                    "rain", "rainy", "night", "horror", "somber", "tragic", "epic"})
_MAJOR = frozenset({"happy", "bright", "joyful", "sunny", "uplifting", "cheerful", "major", "hopeful",
                    "summer", "fun", "playful", "triumphant"})
_NO_DRUMS = frozenset({"ambient", "meditation", "sleep", "lullaby", "solo"})

#: Words that pick the lead instrument, and what accompanies it.
_LEADS: dict[str, tuple[frozenset[str], str]] = {
    "piano": (frozenset({"piano", "keys", "classical"}), "piano"),
    "pluck": (frozenset({"guitar", "acoustic", "harp", "folk", "ukulele", "pluck"}), "pluck"),
    "bell": (frozenset({"bell", "chime", "music", "box", "celesta", "glockenspiel", "marimba"}), "bell"),
    "flute": (frozenset({"flute", "woodwind", "pan", "whistle", "bird"}), "flute"),
    "lead": (frozenset({"synth", "electronic", "techno", "edm", "80", "retro", "synthwave", "arcade",
                        "chiptune", "game"}), "lead"),
    "pad": (frozenset({"string", "strings", "orchestra", "orchestral", "cinematic", "violin", "cello",
                       "choir"}), "pad"),
}

#: What a negative prompt may name, and the instrument each word leaves out.
_UNWANTED: dict[str, frozenset[str]] = {
    "piano": frozenset({"piano", "key", "keyboard"}),
    "pluck": frozenset({"guitar", "harp", "ukulele", "pluck", "banjo"}),
    "bell": frozenset({"bell", "chime", "celesta", "glockenspiel", "marimba"}),
    "flute": frozenset({"flute", "whistle", "woodwind"}),
    "lead": frozenset({"synth", "synthesizer", "lead"}),
    "pad": frozenset({"string", "violin", "cello", "pad", "choir", "orchestra"}),
    "bass": frozenset({"bass", "bassline"}),
}
_UNWANTED_DRUMS = frozenset({"drum", "percussion", "beat", "kick", "snare", "hat", "hihat", "cymbal", "shaker"})
DRUM_VOICES = frozenset({"kick", "snare", "hat", "shaker"})
#: Who takes over a part whose instrument is unwanted, in order of preference.
_STAND_INS = ("piano", "pluck", "pad", "bell", "flute", "lead")

_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
_PROGRESSIONS = {
    False: [(0, 4, 5, 3), (0, 3, 4, 3), (5, 3, 0, 4), (0, 5, 3, 4), (0, 3, 0, 4)],
    True: [(0, 5, 2, 6), (0, 3, 6, 2), (0, 5, 3, 4), (0, 6, 5, 6), (0, 3, 4, 0)],
}


@dataclass(frozen=True)
class Style:
    tempo: float
    root: int
    minor: bool
    lead: str
    harmony: str
    #: 0 = no drums; 1 = busy sixteenth-note grooves.
    drums: float
    four_on_floor: bool
    swing: float
    sevenths: bool
    progression: tuple[int, ...]
    #: Reverb send, 0–1.
    space: float
    #: Instruments the negative prompt names: they never play.
    banned: frozenset[str] = frozenset()

    @property
    def beat(self) -> float:
        return 60.0 / self.tempo


@dataclass(frozen=True)
class Event:
    time: float
    instrument: str
    #: MIDI note for tonal instruments; 0 for drums.
    pitch: int
    seconds: float
    velocity: float
    pan: float


def unwanted_instruments(negative: tuple[str, ...]) -> frozenset[str]:
    """The instruments (and drum voices) a negative prompt's words name."""
    names = {name for name, vocabulary in _UNWANTED.items() if has_any(negative, vocabulary)}
    return frozenset(names | (DRUM_VOICES if has_any(negative, _UNWANTED_DRUMS) else set()))


def _stand_in(instrument: str, banned: frozenset[str], besides: str | None = None) -> str:
    if instrument not in banned:
        return instrument
    free = [name for name in _STAND_INS if name not in banned]
    return next((name for name in free if name != besides), free[0] if free else instrument)


def style_for(words: tuple[str, ...], seed: int, negative: tuple[str, ...] = ()) -> Style:
    rng = rng_for("style", words, seed)
    calm, fast, chill = score(words, _CALM), score(words, _FAST), score(words, _CHILL)
    if fast > calm:
        tempo = 124 + 36 * rng.random()
        drums = 0.75 + 0.25 * rng.random()
    elif calm > fast:
        tempo = 62 + 18 * rng.random()
        drums = 0.0
    elif chill:
        tempo = 78 + 14 * rng.random()
        drums = 0.45
    else:
        tempo = 88 + 28 * rng.random()
        drums = 0.3 + 0.35 * rng.random()
    if chill and drums < 0.45:
        drums = 0.45
    if has_any(words, _NO_DRUMS):
        drums = 0.0
    if "drum" in words or "beat" in words or "percussion" in words:
        drums = max(drums, 0.9)

    lead = next((name for name, (vocabulary, _) in _LEADS.items() if has_any(words, vocabulary)), None)
    if lead is None:
        lead = ("piano" if calm >= fast else "lead") if calm or fast else \
            ["piano", "pluck", "bell", "lead", "flute"][int(rng.integers(0, 5))]
    harmony = "pad" if lead in ("piano", "bell", "flute", "pluck") and calm >= fast else \
        "piano" if lead == "pad" else "pluck" if fast > calm else "pad"
    if lead == "piano" and calm > fast:
        harmony = "piano"  # a solo piano plays its own chords

    banned = unwanted_instruments(negative)
    lead = _stand_in(lead, banned)
    harmony = _stand_in(harmony, banned, besides=lead)
    if banned >= DRUM_VOICES:
        drums = 0.0

    minor_votes, major_votes = score(words, _MINOR), score(words, _MAJOR)
    minor = minor_votes > major_votes if minor_votes != major_votes else bool(rng.random() < 0.45)
    progression = _PROGRESSIONS[minor][int(rng.integers(0, len(_PROGRESSIONS[minor])))]
    return Style(
        tempo=float(tempo), root=int(rng.integers(0, 12)), minor=minor, lead=lead, harmony=harmony,
        drums=float(drums), four_on_floor=has_any(words, _FOUR_ON_FLOOR), swing=0.12 if chill else 0.0,
        sevenths=bool(chill) or rng.random() < 0.25, progression=progression,
        space=0.45 if calm > fast else 0.22 if fast > calm else 0.3, banned=banned,
    )


def _degree_pitch(style: Style, degree: int, octave: int) -> int:
    """MIDI note of a scale degree (may exceed 0–6) in the given octave of the key."""
    scale = _MINOR_SCALE if style.minor else _MAJOR_SCALE
    return 12 * (octave + 1) + style.root + scale[degree % 7] + 12 * (degree // 7)


def _motif(rng: np.random.Generator, style: Style) -> list[tuple[float, int]]:
    """Two bars of melody as (beat offset, scale step relative to the chord root)."""
    busy = 0.25 + 0.5 * style.drums
    notes: list[tuple[float, int]] = []
    beat, step = 0.0, int(rng.choice([0, 2, 4]))
    while beat < 8:
        strong = beat % 2 == 0
        if strong or rng.random() < 0.85:
            if strong:
                step = int(rng.choice([0, 2, 4, 7]))  # chord tones on strong beats
            else:
                step += int(rng.choice([-2, -1, 1, 1, 2, 3]))
            notes.append((beat, max(-3, min(step, 9))))
        beat += float(rng.choice([0.5, 1.0] if rng.random() < busy else [1.0, 2.0]))
    return notes


def compose(style: Style, seconds: float, seed: int, words: tuple[str, ...]) -> list[Event]:
    rng = rng_for("compose", words, seed)
    beat = style.beat
    bar = 4 * beat
    bars = max(1, math.ceil(seconds / bar))
    events: list[Event] = []
    motifs = [_motif(rng, style), _motif(rng, style)]
    form = [0, 0, 1, 0]  # A A B A, two bars per motif
    gate = 0.9 if style.lead in ("pad", "flute", "lead") else 1.6

    def swung(offset: float) -> float:
        return offset + (style.swing if (offset * 2) % 2 == 1 else 0.0)

    for b in range(bars):
        start = b * bar
        degree = style.progression[b % len(style.progression)]
        intro = b == 0 and bars > 3
        # Harmony: the chord, sustained (pad) or re-struck per half bar (piano, pluck).
        chord = [degree, degree + 2, degree + 4] + ([degree + 6] if style.sevenths else [])
        strikes = [0.0] if style.harmony == "pad" else [0.0, 2.0] if style.drums < 0.5 else [0.0, 1.5, 2.5]
        for offset in strikes:
            length = (4.0 - offset if style.harmony == "pad" else 1.0 if len(strikes) > 2 else 2.0) * beat
            for i, d in enumerate(chord):
                events.append(Event(start + swung(offset) * beat, style.harmony, _degree_pitch(style, d, 3),
                                    length, 0.22 if style.harmony == "pad" else 0.3, -0.3 + 0.2 * i))
        # Bass: roots, walking busier with the drums.
        bass_pattern = [0.0] if style.drums == 0 else [0.0, 2.0] if style.drums < 0.6 else [0.0, 1.5, 2.0, 3.5]
        for offset in bass_pattern:
            length = (4.0 if len(bass_pattern) == 1 else 1.0) * beat * 0.9
            events.append(Event(start + offset * beat, "bass", _degree_pitch(style, degree, 2), length, 0.55, 0.0))
        # Melody from the motif of this part of the form.
        if not intro:
            motif = motifs[form[(b // 2) % len(form)]]
            half = (b % 2) * 4
            for offset, step in motif:
                if half <= offset < half + 4:
                    pitch = _degree_pitch(style, degree + step, 4)
                    events.append(Event(start + swung(offset - half) * beat, style.lead, pitch,
                                        beat * gate * (1.0 if offset % 1 == 0 else 0.5),
                                        0.5 + 0.15 * float(rng.random()), 0.15))
        if style.drums > 0:
            events.extend(_drum_bar(style, start, b, rng))
    return [e for e in events if e.time < seconds and e.instrument not in style.banned]


def _drum_bar(style: Style, start: float, index: int, rng: np.random.Generator) -> list[Event]:
    density, beat = style.drums, style.beat
    hits: list[tuple[float, str, float]] = []
    kicks: list[float] = [0, 1, 2, 3] if style.four_on_floor else [0, 2] + ([2.5] if density > 0.6 else [])
    if density > 0.8 and not style.four_on_floor and rng.random() < 0.5:
        kicks.append(3.75)
    hits += [(k, "kick", 1.0) for k in kicks]
    if density >= 0.4:
        hits += [(1, "snare", 0.8), (3, "snare", 0.8)]
    step = 0.25 if density > 0.7 else 0.5
    for i in range(int(4 / step)):
        accent = 0.45 if (i * step) % 1 == 0 else 0.28
        hits.append((i * step + (style.swing if (i * step * 2) % 2 == 1 else 0), "hat", accent))
    if density < 0.4:
        hits = [(h[0], "shaker" if h[1] == "hat" else h[1], h[2]) for h in hits]
    if density > 0.6 and index % 4 == 3:
        hits += [(3 + i * 0.25, "snare", 0.4 + 0.12 * i) for i in range(4)]  # a fill into the next phrase
    return [Event(start + offset * beat, name, 0, 0.0, velocity, 0.25 if name == "hat" else 0.0)
            for offset, name, velocity in hits]
