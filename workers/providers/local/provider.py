"""The offline ``local`` provider: every mode rendered in-process, repeatable per prompt and seed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from shared.jobs.modes import MUSIC_SECONDS, Mode
from shared.media.voices import DEFAULT_VOICE_ID

from ..base import GenerationFailed, GenerationRequest, JobContext, Output
from . import speech
from .animation import render_animation
from .avatar import render_talking_video
from .encode import AAC_RATE, AUDIO_TYPES, read_audio, resample, write_audio
from .finish import Finish, load_mask, masked
from .image import SIZES, png_output, render_images
from .inputs import load_image
from .instruments import RATE as MUSIC_RATE
from .motion import Framing, animate_picture
from .music import render_music
from .prompt import stable_int
from .restyle import restyle
from .rework import rework
from .transcribe import transcribe
from .video_restyle import Rework, restyle_video

Progress = Callable[[float], None]


def _stage(ctx: JobContext, start: float, end: float) -> Progress:
    """Report a stage's own 0–1 progress as its share of the job's 0–100."""
    def report(fraction: float) -> None:
        ctx.progress(start + (end - start) * min(max(fraction, 0.0), 1.0))
    return report


def _seed(request: GenerationRequest) -> int:
    seed = request.params.get("seed")
    return int(seed) if seed is not None else stable_int(request.mode, request.prompt)


def _input(request: GenerationRequest, role: str) -> Path:
    item = request.inputs.get(role)
    if item is None:
        raise GenerationFailed(f"{request.mode} needs an input {role}")
    return item.path


def _audio_format(request: GenerationRequest) -> str:
    fmt = str(request.params.get("output_format") or "mp3")
    if fmt not in AUDIO_TYPES:
        raise GenerationFailed(f"unsupported output_format {fmt!r}")
    return fmt


class LocalProvider:
    name = "local"

    def handlers(self) -> dict[Mode, Callable[[GenerationRequest, JobContext], list[Output]]]:
        """One renderer per mode of the registry (``shared.jobs.modes``)."""
        return {
            "text_to_image": self._text_to_image, "image_to_image": self._image_to_image,
            "audio": self._audio, "music": self._music, "image_to_video": self._image_to_video,
            "text_to_video": self._text_to_video, "transcription": self._transcription,
            "video_to_video": self._video_to_video, "audio_to_audio": self._audio_to_audio,
        }

    def generate(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        handler = self.handlers().get(request.mode)
        if handler is None:
            raise GenerationFailed(f"the local provider cannot render mode {request.mode!r}")
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        ctx.check_cancelled()
        outputs = handler(request, ctx)
        ctx.progress(100)
        return outputs

    def _transcription(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        transcript = transcribe(_input(request, "audio"), _stage(ctx, 5, 95), ctx.check_cancelled)
        path = ctx.workdir / "transcript.json"
        path.write_text(json.dumps(transcript.as_dict()))
        return [Output(path, "application/json", "text")]

    def _text_to_image(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        params = request.params
        finish = Finish(style=params.get("style"), quality=str(params.get("quality") or "standard"),
                        upscale=params.get("upscale"))
        return render_images(request.prompt or "", int(params.get("n", 1)), str(params.get("size", "1024x1024")),
                             _seed(request), params.get("negative_prompt"), ctx.workdir, _stage(ctx, 0, 100), finish)

    def _image_to_image(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        picture = load_image(_input(request, "image"), longest=1024, shortest_long_side=512)
        mask = request.inputs.get("mask")
        change = load_mask(mask.path, picture.size) if mask is not None else None
        if request.params.get("size"):
            target = SIZES[str(request.params["size"])]
            picture = ImageOps.fit(picture, target, Image.Resampling.LANCZOS)
            change = ImageOps.fit(change, target, Image.Resampling.BILINEAR) if change is not None else None
        ctx.progress(10)
        count, strength = int(request.params.get("n", 1)), float(request.params.get("strength", 0.6))
        outputs = []
        for i in range(count):
            result = restyle(picture, request.prompt or "", strength, _seed(request) + i)
            if change is not None:
                result = masked(picture, result, change)
            outputs.append(png_output(result, ctx.workdir / f"image_{i + 1}.png"))
            ctx.progress(10 + 85 * (i + 1) / count)
        return outputs

    def _speak(self, request: GenerationRequest, progress: Progress) -> tuple[np.ndarray, int]:
        text = str(request.params.get("voice_text") or "")
        voice_id = str(request.params.get("voice_id") or DEFAULT_VOICE_ID)
        return speech.synthesize(text, voice_id, progress, float(request.params.get("speed", 1.0)))

    def _audio(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        fmt = _audio_format(request)
        samples, rate = self._speak(request, _stage(ctx, 0, 80))
        path = ctx.workdir / f"speech.{fmt}"
        content_type = write_audio(path, samples, rate, fmt)
        return [Output(path, content_type, "audio")]

    def _music(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        fmt = _audio_format(request)
        seconds = float(request.params.get("duration_seconds", 30))
        samples, rate = render_music(request.prompt, seconds, _seed(request), _stage(ctx, 0, 85),
                                     request.params.get("negative_prompt"))
        ctx.check_cancelled()
        path = ctx.workdir / f"music.{fmt}"
        content_type = write_audio(path, samples, rate, fmt)
        return [Output(path, content_type, "audio")]

    def _image_to_video(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        params, path = request.params, ctx.workdir / "video.mp4"
        framing = Framing.of(params, fps=25)
        if params.get("voice_text"):
            samples, rate = self._speak(request, _stage(ctx, 0, 10))
            voice = resample(samples, rate, AAC_RATE)
        elif "audio" in request.inputs:
            voice = read_audio(_input(request, "audio"), AAC_RATE)
            ctx.progress(10)
        else:
            animate_picture(_input(request, "image"), path, framing, float(params.get("duration_seconds", 5)),
                            request.prompt, _seed(request), _stage(ctx, 0, 100))
            return [Output(path, "video/mp4", "video")]
        render_talking_video(_input(request, "image"), voice, path, _seed(request), _stage(ctx, 10, 100), framing,
                             request.prompt)
        return [Output(path, "video/mp4", "video")]

    def _text_to_video(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        params, path = request.params, ctx.workdir / "video.mp4"
        render_animation(request.prompt or "", params.get("negative_prompt"),
                         float(params.get("duration_seconds", 5)), Framing.of(params, fps=24, aspect_ratio="16:9"),
                         _seed(request), path, _stage(ctx, 0, 100))
        return [Output(path, "video/mp4", "video")]

    def _video_to_video(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        params, path = request.params, ctx.workdir / "video.mp4"
        seconds, fps = params.get("duration_seconds"), params.get("fps")
        rework = Rework(request.prompt or "", float(params.get("strength", 0.6)), _seed(request),
                        float(seconds) if seconds is not None else None, params.get("resolution"),
                        int(fps) if fps is not None else None)
        source = request.inputs.get("video")
        if source is None:
            raise GenerationFailed("video_to_video needs an input video")
        restyle_video(source.path, path, rework, source.duration_seconds, _stage(ctx, 0, 100))
        return [Output(path, "video/mp4", "video")]

    def _audio_to_audio(self, request: GenerationRequest, ctx: JobContext) -> list[Output]:
        fmt, params = _audio_format(request), request.params
        limit = min(float(params.get("duration_seconds", MUSIC_SECONDS.high)), MUSIC_SECONDS.high)
        source = read_audio(_input(request, "audio"), MUSIC_RATE, max_seconds=limit)
        ctx.progress(10)
        samples, rate = rework(source, request.prompt, float(params.get("strength", 0.5)), _seed(request),
                               _stage(ctx, 10, 85), params.get("negative_prompt"))
        ctx.check_cancelled()
        path = ctx.workdir / f"music.{fmt}"
        return [Output(path, write_audio(path, samples, rate, fmt), "audio")]
