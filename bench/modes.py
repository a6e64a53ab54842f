"""Cost of each generation mode on the local provider, against a bare baseline.

    python -m bench.modes [--runs N] [--only MODE ...]

Every mode, and every baseline, runs in a fresh Python subprocess, so each peak RSS
belongs to that case alone. A child runs its case ``--runs`` times and reports the
fastest run's process CPU time (all threads) and wall time, and its own peak RSS.
Baselines do the bare minimum the mode cannot avoid, with the same libraries and
settings: save a flat PNG of the same size; load, resize and save the input image;
encode silence of the same length; encode the same number of flat frames (plus
silent AAC where the mode has sound).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEECH_10S = ("Atelier turns short prompts into pictures, music, speech and video. Every job runs "
              "offline, and the same request always gives the same result.")
SPEECH_5S = "Hello! I am a talking picture, and I am very pleased to meet you here today, my friend."


@dataclass(frozen=True)
class Case:
    mode: str
    label: str
    prompt: str | None
    params: dict[str, Any]
    inputs: tuple[str, ...] = ()


CASES = [
    Case("text_to_image", "text_to_image 1024²", "snowy mountains above a lake at sunset",
         {"n": 1, "size": "1024x1024", "seed": 1}),
    Case("image_to_image", "image_to_image 1200×900→1024", "oil painting at golden hour with birds",
         {"strength": 0.7, "seed": 1}, ("image",)),
    Case("audio", "audio ~10 s speech", None, {"voice_text": SPEECH_10S, "voice_id": "narrator"}),
    Case("music", "music 10 s", "upbeat synth pop with drums", {"duration_seconds": 10, "seed": 1}),
    Case("image_to_video", "image_to_video ~5 s voice", None,
         {"voice_text": SPEECH_5S, "voice_id": "casual_female"}, ("image",)),
    Case("text_to_video", "text_to_video 5 s 720p", "neon city skyline at night", {"duration_seconds": 5, "seed": 1}),
]


# Children ----------------------------------------------------------------------------------------


def _measure(work: Callable[[int], Any], runs: int) -> dict[str, Any]:
    best_cpu = best_wall = float("inf")
    result = None
    for run in range(runs):
        cpu, wall = time.process_time(), time.perf_counter()
        result = work(run)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"cpu": best_cpu, "wall": best_wall, "rss_mb": rss_kb / 1024, "result": result}


class _Context:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def progress(self, percent: float) -> None:
        pass

    def check_cancelled(self) -> None:
        pass


def _run_mode(spec: dict[str, Any], runs: int) -> dict[str, Any]:
    from shared.media.probe import probe
    from workers.providers.base import GenerationRequest, InputFile
    from workers.providers.local import LocalProvider

    inputs = {role: InputFile(role, f"ast_{role}", role, "image/jpeg", Path(path))
              for role, path in spec["inputs"].items()}
    request = GenerationRequest("job_bench", spec["mode"], "local/bench", "bench", spec["prompt"],
                                spec["params"], inputs)
    root = Path(spec["workdir"])

    def work(run: int) -> list[dict[str, Any]]:
        outputs = LocalProvider().generate(request, _Context(root / f"run{run}"))
        facts = []
        for output in outputs:
            info = probe(output.path, output.kind)
            facts.append({"kind": output.kind, "width": info.width, "height": info.height,
                          "seconds": info.duration_seconds, "has_audio": info.has_audio})
        return facts

    return _measure(work, runs)


def _run_baseline(spec: dict[str, Any], runs: int) -> dict[str, Any]:
    kind, root = spec["kind"], Path(spec["workdir"])
    if kind == "png":
        from PIL import Image

        def work(run: int) -> None:
            Image.new("RGB", (spec["width"], spec["height"]), (90, 120, 160)).save(
                root / f"flat{run}.png", compress_level=3)
    elif kind == "resize_png":
        from PIL import Image

        def work(run: int) -> None:
            with Image.open(spec["input"]) as image:
                image.convert("RGB").resize((spec["width"], spec["height"])).save(
                    root / f"resized{run}.png", compress_level=3)
    elif kind == "silence":
        import av
        import numpy as np

        def work(run: int) -> None:
            layout = "stereo" if spec["channels"] == 2 else "mono"
            with av.open(str(root / f"silence{run}.mp3"), "w", format="mp3") as container:
                stream = container.add_stream("libmp3lame", rate=spec["rate"], layout=layout)
                stream.bit_rate = 96_000 * spec["channels"]
                stream.options = {"compression_level": "5"}
                _encode_silence(container, stream, spec["seconds"], spec["rate"], spec["channels"])
    else:  # "flat_video": the same encoder settings as workers/providers/local/encode.py
        from fractions import Fraction

        import av
        import numpy as np

        def work(run: int) -> None:
            with av.open(str(root / f"flat{run}.mp4"), "w", format="mp4",
                         options={"movflags": "+faststart"}) as container:
                video = container.add_stream("libx264", rate=spec["fps"])
                video.width, video.height, video.pix_fmt = spec["width"], spec["height"], "yuv420p"
                video.options = {"crf": "23", "preset": "veryfast"}
                sound = container.add_stream("aac", rate=44100, layout="mono") if spec["audio"] else None
                if sound is not None:
                    sound.bit_rate = 96_000
                flat = np.full((spec["height"], spec["width"], 3), (90, 120, 160), dtype=np.uint8)
                for i in range(round(spec["seconds"] * spec["fps"])):
                    frame = av.VideoFrame.from_ndarray(flat, format="rgb24")
                    frame.pts, frame.time_base = i, Fraction(1, spec["fps"])
                    container.mux(video.encode(frame))
                container.mux(video.encode(None))
                if sound is not None:
                    _encode_silence(container, sound, spec["seconds"], 44100, 1)
    return _measure(work, runs)


def _encode_silence(container: Any, stream: Any, seconds: float, rate: int, channels: int) -> None:
    import av
    import numpy as np

    layout = "stereo" if channels == 2 else "mono"
    for start in range(0, round(seconds * rate), rate):
        count = min(rate, round(seconds * rate) - start)
        frame = av.AudioFrame.from_ndarray(np.zeros((channels, count), dtype=np.float32), format="fltp",
                                           layout=layout)
        frame.sample_rate, frame.pts = rate, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


# Parent ------------------------------------------------------------------------------------------


def _child(role: str, spec: dict[str, Any], runs: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.modes", "--child", role, "--spec", json.dumps(spec),
               "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{role} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _make_input(path: Path) -> None:
    """A 1200×900 photo-like JPEG: a gradient sky, a sun and hills."""
    import numpy as np
    from PIL import Image, ImageDraw

    y = np.linspace(0, 1, 900, dtype=np.float32)[:, None, None]
    sky = (np.array([40, 90, 170]) * (1 - y) + np.array([250, 190, 140]) * y)
    image = Image.fromarray(np.broadcast_to(sky, (900, 1200, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((780, 180, 940, 340), fill=(255, 235, 180))
    draw.polygon([(0, 900), (0, 600), (300, 480), (650, 620), (1000, 500), (1200, 580), (1200, 900)],
                 fill=(40, 70, 50))
    draw.ellipse((520, 520, 680, 720), fill=(225, 185, 155))
    image.save(path, quality=90)


def _baseline_for(case: Case, result: dict[str, Any], workdir: Path, input_image: Path) -> dict[str, Any]:
    facts = result["result"][0]
    spec: dict[str, Any] = {"workdir": str(workdir)}
    if case.mode == "text_to_image":
        return {**spec, "kind": "png", "width": facts["width"], "height": facts["height"]}
    if case.mode == "image_to_image":
        return {**spec, "kind": "resize_png", "input": str(input_image), "width": facts["width"],
                "height": facts["height"]}
    if case.mode in ("audio", "music"):
        rate, channels = (22050, 1) if case.mode == "audio" else (44100, 2)
        return {**spec, "kind": "silence", "seconds": facts["seconds"], "rate": rate, "channels": channels,
                "format": "mp3"}
    fps = 25 if case.mode == "image_to_video" else 24
    return {**spec, "kind": "flat_video", "seconds": facts["seconds"], "fps": fps, "width": facts["width"],
            "height": facts["height"], "audio": facts["has_audio"]}


def _units(case: Case, result: dict[str, Any]) -> tuple[float, str]:
    if case.mode in ("text_to_image", "image_to_image"):
        return float(len(result["result"])), "image"
    return float(result["result"][0]["seconds"]), "s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2, help="runs per case; the fastest counts")
    parser.add_argument("--only", nargs="*", help="modes to run (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.spec)
        measured = _run_mode(spec, args.runs) if args.child == "mode" else _run_baseline(spec, args.runs)
        print(json.dumps(measured))
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        root = Path(tmp)
        input_image = root / "input.jpg"
        _make_input(input_image)
        for index, case in enumerate(CASES):
            if args.only and case.mode not in args.only:
                continue
            workdir = root / f"case{index}"
            spec = {"mode": case.mode, "prompt": case.prompt, "params": case.params, "workdir": str(workdir),
                    "inputs": {role: str(input_image) for role in case.inputs}}
            result = _child("mode", spec, args.runs)
            (workdir / "baseline").mkdir(parents=True, exist_ok=True)
            baseline = _child("baseline", _baseline_for(case, result, workdir / "baseline", input_image), args.runs)
            units, unit = _units(case, result)
            rows.append((case.label, f"{units:g} {unit}", result, baseline, units, unit))
            print(f"measured {case.label}", file=sys.stderr)

    header = (f"{'mode':<30} {'output':>10} {'CPU s':>7} {'CPU/unit':>12} {'wall s':>7} {'RSS MB':>7}"
              f" | {'base CPU':>8} {'CPU ×':>6} {'base RSS':>8} {'RSS ×':>6}")
    print(header)
    print("-" * len(header))
    for label, output, result, baseline, units, unit in rows:
        per_unit = f"{result['cpu'] / units:.3f}/{unit}"
        print(f"{label:<30} {output:>10} {result['cpu']:>7.3f} {per_unit:>12} {result['wall']:>7.3f}"
              f" {result['rss_mb']:>7.0f} | {baseline['cpu']:>8.3f} {result['cpu'] / baseline['cpu']:>6.1f}"
              f" {baseline['rss_mb']:>8.0f} {result['rss_mb'] / baseline['rss_mb']:>6.1f}")


if __name__ == "__main__":
    main()
