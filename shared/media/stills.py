"""Still pictures of a video, as OpenAI's video API offers them besides the MP4: a thumbnail
(the first frame, WebP, full size) and a spritesheet (frames evenly spaced through the clip,
in a grid of small tiles, JPEG)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
from PIL import Image

from shared.errors import MediaDecodeError

THUMBNAIL_TYPE = "image/webp"
SPRITESHEET_TYPE = "image/jpeg"
#: The spritesheet: this many tiles, this many across, each this wide (height keeps the frame's shape).
TILES, COLUMNS, TILE_WIDTH = 10, 5, 256


def _frames(path: Path) -> Iterator[av.VideoFrame]:
    """Every frame of the first video stream, decoded (converted to a picture only when used)."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            yield from container.decode(container.streams.video[0])
    except (av.FFmpegError, IndexError) as exc:
        raise MediaDecodeError("the video could not be decoded") from exc


def _duration(path: Path) -> float:
    with av.open(str(path), metadata_errors="ignore") as container:
        return container.duration / av.time_base if container.duration else 0.0


def thumbnail(path: Path) -> bytes:
    for frame in _frames(path):
        out = io.BytesIO()
        frame.to_image().save(out, format="WEBP", quality=80)
        return out.getvalue()
    raise MediaDecodeError("the video has no frames")


def spritesheet(path: Path) -> bytes:
    """``TILES`` frames at the middles of equal spans of the clip, left to right, top to bottom."""
    duration = _duration(path)
    marks = [duration * (i + 0.5) / TILES for i in range(TILES)]
    tiles: list[Image.Image] = []
    for frame in _frames(path):
        if len(tiles) == TILES:
            break
        if float(frame.time or 0.0) >= marks[len(tiles)] - 1e-6:
            height = max(1, round(TILE_WIDTH * frame.height / frame.width))
            tiles.append(frame.to_image(width=TILE_WIDTH, height=height))
    if not tiles:
        raise MediaDecodeError("the video has no frames")
    rows = -(-len(tiles) // COLUMNS)
    sheet = Image.new("RGB", (TILE_WIDTH * min(COLUMNS, len(tiles)), tiles[0].height * rows))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % COLUMNS) * TILE_WIDTH, (i // COLUMNS) * tiles[0].height))
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=80)
    return out.getvalue()
