"""text_to_video: the prompt's scene, animated (parallax pan, drifting clouds, twinkling stars…).

Frames are rendered with their short side at most 540 pixels and scaled to the requested
resolution by the encoder's scaler: the scenes are soft-edged, and it keeps a 5 s clip
within a few CPU seconds. A looping clip crossfades its last second into its first: the
scene runs one crossfade longer, and the frames of that extra stretch are blended over
the clip's end, so the last frame is the scene one frame step before the first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from shared.media.video_format import frame_size

from .compose import build_scene
from .encode import VideoWriter
from .motion import Framing, frame_times
from .prompt import words_of

#: The longest short side frames are rendered at; larger outputs are upscaled by the encoder.
RENDER_SHORT_SIDE = 540
#: A loop's crossfade, in seconds (at most a third of the clip).
CROSSFADE = 1.0


def render_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, RENDER_SHORT_SIDE / min(width, height))
    return round(width * scale), round(height * scale)


def render_animation(prompt: str, negative_prompt: str | None, seconds: float, framing: Framing, seed: int,
                     path: Path, progress: Callable[[float], None]) -> None:
    size = frame_size(framing.resolution, framing.aspect_ratio or "16:9")
    fade = min(CROSSFADE, seconds / 3) if framing.loop else 0.0
    scene = build_scene(words_of(prompt), words_of(negative_prompt), seed, *render_size(*size),
                        duration=seconds + fade)
    frames, _ = frame_times(seconds, framing.fps, framing.loop)
    fade_from, fade_to = seconds - fade, (frames - 1) / framing.fps
    with VideoWriter(path, *size, fps=framing.fps) as writer:
        for i in range(frames):
            t = i / framing.fps
            frame = scene.render(t + fade)
            if fade and t > fade_from:
                # Fade towards where the clip began: the last frame is the one just before the first.
                weight = min(1.0, (t - fade_from) / max(fade_to - fade_from, 1e-9))
                frame = Image.blend(frame, scene.render(t + fade - seconds), weight)
            writer.add(frame)
            if i % framing.fps == 0:
                progress(i / frames)
