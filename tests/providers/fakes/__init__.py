"""Loopback fakes of the upstream providers, for adapter and end-to-end tests.

Each fake is a threaded ``http.server`` on 127.0.0.1 that follows its provider's documented
protocol closely enough to exercise an adapter: fal's queue API, Replicate's predictions API,
OpenAI's images and speech endpoints. They serve the result files they refer to (a real
PNG, WAV, MP3 or H.264 MP4, a few KB each), check credentials (wrong key → 401), record
every request, and inject failures: an error status at submit (422/400, 429, 500), a slow
submit (``submit_delay``), a generation that fails upstream.

    with FakeFal() as fal:
        provider = FalProvider(fal.key, fal.base_url, allow_private_urls=True)

``allow_private_urls=True`` is needed because the fakes' file URLs are on loopback.

What a finished job returns follows the model id, as the real models do: fal ``*stable-audio*``
→ ``audio_file`` (WAV), ``*f5-tts*`` → ``audio_url`` (MP3), ``*video*``/``*hailuo*`` → ``video``
(MP4), anything else → ``images`` (``num_images`` PNGs); Replicate ``*musicgen*`` → a WAV or
MP3 URL, ``*video*``/``*hailuo*`` → an MP4 URL, anything else → ``num_outputs`` PNG URLs.
"""

from tests.providers.fakes.fal import FakeFal
from tests.providers.fakes.openai import OPENAI_VOICES, FakeOpenAI
from tests.providers.fakes.replicate import FakeReplicate
from tests.providers.fakes.server import (
    FakeJobContext,
    FakeServer,
    Recorded,
    Reply,
    json_reply,
    mp3_bytes,
    mp4_bytes,
    png_bytes,
    wav_bytes,
)

__all__ = ["OPENAI_VOICES", "FakeFal", "FakeJobContext", "FakeOpenAI", "FakeReplicate", "FakeServer", "Recorded",
           "Reply", "json_reply", "mp3_bytes", "mp4_bytes", "png_bytes", "wav_bytes"]
