"""What ``GET /v1/videos/{id}/content?variant=thumbnail|spritesheet`` costs: the stills are made
on request from the stored MP4 (``shared/media/stills.py``).

    python -m bench.stills [--runs N] [--seconds 1 5 10]

Renders a local text_to_video clip (720p, 16:9, 24 fps) of each length, then times each still
``--runs`` times and reports the median wall time and the still's size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from shared.media import stills
from workers.providers.local.animation import render_animation
from workers.providers.local.motion import Framing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.0, 5.0, 10.0])
    args = parser.parse_args()
    print(f"{'clip':>6}  {'variant':<11} {'median ms':>9}  {'bytes':>7}")
    with tempfile.TemporaryDirectory(prefix="atelier-bench-stills-") as tmp:
        for seconds in args.seconds:
            path = Path(tmp) / f"clip-{seconds:g}.mp4"
            render_animation("a lighthouse at night under the stars", None, seconds, Framing(24, "720p", "16:9"),
                             1, path, lambda fraction: None)
            for variant, make in (("thumbnail", stills.thumbnail), ("spritesheet", stills.spritesheet)):
                times, size = [], 0
                for _ in range(args.runs):
                    start = time.perf_counter()
                    size = len(make(path))
                    times.append(time.perf_counter() - start)
                print(f"{seconds:>5g}s  {variant:<11} {statistics.median(times) * 1000:>9.1f}  {size:>7}")


if __name__ == "__main__":
    main()
