"""The mode registry: everything the service knows about a kind of job, in one entry per mode.

An entry holds the mode's request model (its fields, defaults and rules), the queue it runs
on, its time limit, how it is priced, how its usage is estimated before it runs and measured
from what it produced, and the kinds of files it produces. Adding a mode is one request model
and one ``MODES`` entry here, plus a handler in each provider that serves it
(``docs/architecture.md`` walks through one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticValidationError

from shared.credits.pricing import PriceRule
from shared.db.models import Asset
from shared.errors import ValidationError
from shared.jobs.requests import (
    AssetField,
    AudioFormat,
    DurationRange,
    ImageQuality,
    ImageStyle,
    InputURL,
    JobRequestBase,
    Seed,
    Size,
    Text,
    Upscale,
    describe_errors,
    rule,
)
from shared.media.video_format import DEFAULT_RESOLUTION, MAX_FPS, MIN_FPS, AspectRatio, Resolution
from shared.media.voices import DEFAULT_VOICE_ID, VoiceId, estimate_speech_seconds
from shared.queue import FAST, SLOW
from shared.settings import Settings

Mode = Literal["text_to_image", "image_to_image", "audio", "music", "image_to_video", "text_to_video",
               "transcription", "video_to_video", "audio_to_audio"]
#: ``text``: a JSON document (a transcript), stored as an asset like media.
OutputKind = Literal["image", "audio", "video", "text"]
#: The longest audio a transcription job accepts.
TRANSCRIPTION_MAX_SECONDS = 300.0
Params = Mapping[str, Any]
Usage = dict[str, float]

MUSIC_SECONDS = DurationRange(1, 47, 30)
VIDEO_SECONDS = DurationRange(1, 10, 5)
VideoSeconds = Annotated[float, AfterValidator(VIDEO_SECONDS.check)]
FramesPerSecond = Annotated[int, Field(ge=MIN_FPS, le=MAX_FPS)]


#: Images one job may make: ``POST /v1/jobs`` allows 4 (the contract); the OpenAI-compatible
#: endpoints allow OpenAI's 10 (``shared.images``).
MAX_IMAGES = 4
MAX_COMPAT_IMAGES = 10


class TextToImageRequest(JobRequestBase):
    mode: Literal["text_to_image"]
    prompt: Text
    negative_prompt: Text | None = None
    n: Annotated[int, Field(ge=1, le=MAX_IMAGES)] = 1
    size: Size = "1024x1024"
    seed: Seed
    style: ImageStyle | None = None
    #: Omitted: ``standard``.
    quality: ImageQuality | None = None
    #: Each image enlarged after rendering (priced as one image).
    upscale: Upscale | None = None


class ImageToImageRequest(JobRequestBase):
    """The input restyled as the prompt asks; with a mask, only where the mask is transparent."""

    asset_fields = {"input_image_asset_id": AssetField("image", "image", url="input_image_url", required=True),
                    "mask_asset_id": AssetField("mask", "image", url="mask_url")}
    mode: Literal["image_to_image"]
    prompt: Text
    input_image_asset_id: str | None = None
    input_image_url: InputURL | None = None
    #: Transparent pixels mark where the image may change; same width and height as the image.
    mask_asset_id: str | None = None
    mask_url: InputURL | None = None
    strength: Annotated[float, Field(ge=0, le=1)] = 0.6
    n: Annotated[int, Field(ge=1, le=MAX_IMAGES)] = 1
    #: The output size (the input, and its mask, are fitted to it); by default the input's own.
    size: Size | None = None
    seed: Seed

    def check_inputs(self, assets: Mapping[str, Asset]) -> None:
        image, mask = assets.get("image"), assets.get("mask")
        if image is not None and mask is not None and (mask.width, mask.height) != (image.width, image.height):
            raise ValidationError.field("mask_asset_id", f"is {mask.width}x{mask.height}; it must be the size "
                                                         f"of the image, {image.width}x{image.height}")


class AudioRequest(JobRequestBase):
    mode: Literal["audio"]
    voice_text: Text
    voice_id: VoiceId = DEFAULT_VOICE_ID
    output_format: AudioFormat = "mp3"
    #: Times the voice's own pace; the audio (and its price) is as long as that makes it.
    speed: Annotated[float, Field(ge=0.25, le=4)] = 1.0


#: A negative prompt for music: instruments left out (drums, piano, guitar, strings, synth, bass…).
UnwantedInstruments = Text


class MusicRequest(JobRequestBase):
    mode: Literal["music"]
    prompt: Text
    negative_prompt: UnwantedInstruments | None = None
    duration_seconds: Annotated[float, AfterValidator(MUSIC_SECONDS.check)] = MUSIC_SECONDS.default
    seed: Seed
    output_format: AudioFormat = "mp3"


class ImageToVideoRequest(JobRequestBase):
    """The picture animated: a talking clip when it has a voice (``voice_text``, synthesized, or
    ``audio_asset_id``) and as long as it; otherwise a camera move for ``duration_seconds``."""

    asset_fields = {"input_image_asset_id": AssetField("image", "image", url="input_image_url", required=True),
                    "audio_asset_id": AssetField("audio", "audio", max_seconds=120.0, url="audio_url")}
    mode: Literal["image_to_video"]
    input_image_asset_id: str | None = None
    input_image_url: InputURL | None = None
    prompt: Text | None = None
    voice_text: Text | None = None
    audio_asset_id: str | None = None
    audio_url: InputURL | None = None
    voice_id: VoiceId | None = None
    duration_seconds: VideoSeconds | None = None
    resolution: Resolution = DEFAULT_RESOLUTION
    fps: FramesPerSecond = 25
    #: Absent: the picture's own proportions, in its orientation.
    aspect_ratio: AspectRatio | None = None
    loop: bool = False
    seed: Seed

    @property
    def voiced(self) -> bool:
        return self.voice_text is not None or self.audio_asset_id is not None or self.audio_url is not None

    @model_validator(mode="after")
    def _voice_rules(self) -> ImageToVideoRequest:
        if self.voice_text is not None and (self.audio_asset_id is not None or self.audio_url is not None):
            raise rule("give either voice_text or audio_asset_id (or audio_url), not both", "voice_text")
        if self.voice_id is not None and self.voice_text is None:
            raise rule("only applies with voice_text", "voice_id")
        if self.duration_seconds is not None and self.voiced:
            raise rule("only applies without a voice (a talking clip lasts as long as its voice)",
                       "duration_seconds")
        return self

    def params(self) -> dict[str, Any]:
        params = super().params()
        if self.voice_text is not None:
            params.setdefault("voice_id", DEFAULT_VOICE_ID)
        if not self.voiced:
            params.setdefault("duration_seconds", VIDEO_SECONDS.default)
        return params


class TextToVideoRequest(JobRequestBase):
    mode: Literal["text_to_video"]
    prompt: Text
    #: Scene elements to leave out (sun, moon, stars, clouds, birds, water, planet, nebula, rain, snow).
    negative_prompt: Text | None = None
    duration_seconds: VideoSeconds = VIDEO_SECONDS.default
    resolution: Resolution = DEFAULT_RESOLUTION
    fps: FramesPerSecond = 24
    aspect_ratio: AspectRatio = "16:9"
    loop: bool = False
    seed: Seed


class TranscriptionRequest(JobRequestBase):
    """Speech in ``audio_asset_id`` as text, with segment and word timestamps (a JSON transcript)."""

    asset_fields = {"audio_asset_id": AssetField("audio", "audio", max_seconds=TRANSCRIPTION_MAX_SECONDS)}
    mode: Literal["transcription"]
    audio_asset_id: str
    #: ISO-639-1, or absent: the model decides (the built-in model recognises English only;
    #: whisper detects the language).
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None


class VideoToVideoRequest(JobRequestBase):
    """Each frame of a source video restyled as the prompt asks; its audio track kept."""

    asset_fields = {"input_video_asset_id": AssetField("video", "video", url="input_video_url", required=True)}
    mode: Literal["video_to_video"]
    prompt: Text
    input_video_asset_id: str | None = None
    input_video_url: InputURL | None = None
    strength: Annotated[float, Field(ge=0, le=1)] = 0.6
    #: Absent: the source's length. Either way at most the source's length and 10 s.
    duration_seconds: VideoSeconds | None = None
    #: Absent: the source's own size (within 1080p); given, the source's proportions at it.
    resolution: Resolution | None = None
    #: Absent: the source's frame rate (at most 30).
    fps: FramesPerSecond | None = None
    seed: Seed


class AudioToAudioRequest(JobRequestBase):
    """A source recording reworked as the prompt asks: accompaniment in its key, following its
    melody and loudness, mixed over it by ``strength``."""

    asset_fields = {"input_audio_asset_id": AssetField("audio", "audio", url="input_audio_url", required=True)}
    mode: Literal["audio_to_audio"]
    prompt: Text
    input_audio_asset_id: str | None = None
    input_audio_url: InputURL | None = None
    strength: Annotated[float, Field(ge=0, le=1)] = 0.5
    negative_prompt: UnwantedInstruments | None = None
    #: Absent: the source's length. Either way at most the source's length and 47 s.
    duration_seconds: Annotated[float, AfterValidator(MUSIC_SECONDS.check)] | None = None
    output_format: AudioFormat = "mp3"
    seed: Seed


#: The body of ``POST /v1/jobs``: pydantic picks the model by ``mode``.
JobRequest = Annotated[TextToImageRequest | ImageToImageRequest | AudioRequest | MusicRequest
                       | ImageToVideoRequest | TextToVideoRequest | TranscriptionRequest | VideoToVideoRequest
                       | AudioToAudioRequest,
                       Field(discriminator="mode")]


# -- usage: estimated before the job runs (for the hold), measured from what it produced ------

def _voice_seconds(params: Params) -> float:
    text = params.get("voice_text")
    if not text:
        return 0.0
    return estimate_speech_seconds(text, params.get("voice_id", DEFAULT_VOICE_ID), params.get("speed", 1.0))


def _avatar_estimate(params: Params, assets: Mapping[str, Asset]) -> Usage:
    voice = _voice_seconds(params)
    if "voice_text" in params:
        seconds = voice
    elif "audio" in assets:
        seconds = assets["audio"].duration_seconds or 0.0
    else:
        seconds = float(params["duration_seconds"])
    return {"video": seconds, "voice": voice}


def source_seconds(params: Params, source: Asset, limit: DurationRange) -> float:
    """How long a rework of ``source`` lasts: ``duration_seconds`` (else the source's length),
    at most the source's length and the mode's longest."""
    length = source.duration_seconds or 0.0
    return min(float(params.get("duration_seconds", length)), length, limit.high)


def _images(params: Params, outputs: Sequence[Asset]) -> Usage:
    return {"image": sum(1 for a in outputs if a.kind == "image")}


def _seconds(component: str) -> Callable[[Params, Sequence[Asset]], Usage]:
    def measure(params: Params, outputs: Sequence[Asset]) -> Usage:
        return {component: sum(a.duration_seconds or 0.0 for a in outputs)}
    return measure


def _avatar_measure(params: Params, outputs: Sequence[Asset]) -> Usage:
    usage = _seconds("video")(params, outputs)
    if "voice_text" in params:
        usage["voice"] = usage["video"]  # the clip lasts exactly as long as the synthesized voice
    return usage


# -- the registry -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModeSpec:
    name: Mode
    request: type[JobRequestBase]
    queue: str
    #: Hard time limit of one run, in seconds (``ATELIER_JOB_TIME_LIMITS`` overrides it).
    time_limit: float
    #: The mode's price rules; a model may carry its own (``shared.catalog``).
    pricing: tuple[PriceRule, ...]
    estimate: Callable[[Params, Mapping[str, Asset]], Usage]
    measure: Callable[[Params, Sequence[Asset]], Usage]
    outputs: tuple[OutputKind, ...]
    duration: DurationRange | None = None

    @property
    def asset_fields(self) -> Mapping[str, AssetField]:
        return self.request.asset_fields

    def time_limits(self, settings: Settings) -> tuple[float, float]:
        """(soft, hard) seconds: at the soft limit the job fails as TIMEOUT and is cleaned up;
        the hard limit kills the process if that clean-up hangs. The clean-up gets 10 % of the
        limit, at least 5 s and at most 30 s (never more than half of it)."""
        hard = float(settings.job_time_limits.get(self.name, self.time_limit))
        return max(hard - min(30.0, max(hard * 0.1, 5.0)), hard / 2), hard


def _price(mode: Mode, *rules: tuple[Any, ...]) -> tuple[PriceRule, ...]:
    return tuple(PriceRule(mode, *r) for r in rules)


MODES: dict[Mode, ModeSpec] = {spec.name: spec for spec in (
    ModeSpec("text_to_image", TextToImageRequest, FAST, 300, _price("text_to_image", ("image", "image", 1, 1)),
             lambda p, a: {"image": p["n"]}, _images, ("image",)),
    ModeSpec("image_to_image", ImageToImageRequest, FAST, 300, _price("image_to_image", ("image", "image", 1, 1)),
             lambda p, a: {"image": p["n"]}, _images, ("image",)),
    ModeSpec("audio", AudioRequest, FAST, 300, _price("audio", ("voice", "second", 10, 1)),
             lambda p, a: {"voice": _voice_seconds(p)}, _seconds("voice"), ("audio",)),
    ModeSpec("music", MusicRequest, SLOW, 600, _price("music", ("music", "second", 10, 1)),
             lambda p, a: {"music": p["duration_seconds"]}, _seconds("music"), ("audio",), MUSIC_SECONDS),
    ModeSpec("image_to_video", ImageToVideoRequest, SLOW, 900,
             _price("image_to_video", ("video", "second", 1, 22), ("voice", "second", 10, 1, "voice_text")),
             _avatar_estimate, _avatar_measure, ("video",), VIDEO_SECONDS),
    ModeSpec("text_to_video", TextToVideoRequest, SLOW, 900, _price("text_to_video", ("video", "second", 1, 22)),
             lambda p, a: {"video": p["duration_seconds"]}, _seconds("video"), ("video",), VIDEO_SECONDS),
    # A transcript's duration is that of the audio it covers (see shared.media.probe).
    ModeSpec("transcription", TranscriptionRequest, SLOW, 600, _price("transcription", ("audio", "second", 60, 1)),
             lambda p, a: {"audio": a["audio"].duration_seconds or 0.0}, _seconds("audio"), ("text",)),
    ModeSpec("video_to_video", VideoToVideoRequest, SLOW, 900, _price("video_to_video", ("video", "second", 1, 22)),
             lambda p, a: {"video": source_seconds(p, a["video"], VIDEO_SECONDS)}, _seconds("video"), ("video",),
             VIDEO_SECONDS),
    ModeSpec("audio_to_audio", AudioToAudioRequest, SLOW, 600, _price("audio_to_audio", ("music", "second", 10, 1)),
             lambda p, a: {"music": source_seconds(p, a["audio"], MUSIC_SECONDS)}, _seconds("music"), ("audio",),
             MUSIC_SECONDS),
)}
MODE_NAMES: tuple[Mode, ...] = get_args(Mode)
assert tuple(MODES) == MODE_NAMES, "every Mode has one registry entry, in the same order"

_ADAPTER: TypeAdapter[JobRequestBase] = TypeAdapter(JobRequest)


def spec_for(mode: str) -> ModeSpec:
    return MODES[mode]  # type: ignore[index]


def parse(body: Mapping[str, Any]) -> JobRequestBase:
    """A job request from a plain dict (tests, the CLI, benchmarks); the API gets the same
    model from FastAPI validating the body against ``JobRequest``."""
    try:
        return _ADAPTER.validate_python(body)
    except PydanticValidationError as exc:
        raise describe_errors(exc.errors(), MODE_NAMES) from None


def rules_for(mode: str) -> list[PriceRule]:
    return list(spec_for(mode).pricing)
