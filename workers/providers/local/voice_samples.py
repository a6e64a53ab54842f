"""Record a short sample of every built-in voice, for the Studio's voice picker.

    python -m workers.providers.local.voice_samples api/studio/voices

Each sample is this provider's own speech for one sentence, encoded as MP3; the Studio
serves the files as they are (a preview costs no credits and no request to the API).
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.media.voices import VOICES

from .encode import write_audio
from .speech import synthesize

SENTENCE = "Hello, this is {name}. I can read your text aloud in this voice."


def record(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for voice in VOICES.values():
        samples, rate = synthesize(SENTENCE.format(name=voice.name.split(" (")[0]), voice.id)
        path = directory / f"{voice.id}.mp3"
        write_audio(path, samples, rate, "mp3")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in record(Path(sys.argv[1] if len(sys.argv) > 1 else "api/studio/voices")):
        print(written_path, written_path.stat().st_size, "bytes")
