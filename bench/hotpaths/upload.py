"""P8: how much the API's memory grows while it takes a 200 MB upload (it should stream to disk).

The file is a real MP4 (a short clip) padded with a trailing ``free`` box to the size wanted, so
the upload is accepted and probed like any video. Each round uses a fresh server, warmed with a
small upload of the same kind; the growth is the peak VmRSS during the upload minus before it.
"""

from __future__ import annotations

import asyncio
import statistics
import struct
import threading
from pathlib import Path

import av
import numpy as np

from bench.common import api_server, rss_kb
from bench.hotpaths.load import Row, check, client
from bench.hotpaths.stack import Stack

SIZE = 200 * 1000 * 1000


def padded_mp4(path: Path, size: int) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    pad = size - path.stat().st_size
    if pad > 8:
        with open(path, "ab") as out:
            out.write(struct.pack(">I4s", pad, b"free"))
            chunk = bytes(1024 * 1024)
            left = pad - 8
            while left > 0:
                out.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))
    return path


class PeakRss:
    """VmRSS of a process sampled every 10 ms on a thread, while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_kb(self.pid))

    def __enter__(self) -> PeakRss:
        self.peak = rss_kb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, rss_kb(self.pid))


async def _upload(url: str, headers: dict[str, str], path: Path) -> None:
    async with client(url, connections=1, timeout=300) as http:
        with open(path, "rb") as file:
            response = check(await http.post("/v1/assets", headers=headers, data={"kind": "video"},
                                             files={"file": (path.name, file, "video/mp4")}), 201)
        # Only the memory matters here: the stored copy goes at once (the run's disk is /tmp).
        check(await http.delete(f"/v1/assets/{response.json()['id']}", headers=headers), (200, 204))


async def _growth_kib(run: Stack, small: Path, big: Path) -> float:
    with api_server(run.log("api-upload")) as server:
        await _upload(server.url, run.key.headers, small)
        await asyncio.sleep(0.5)
        before = rss_kb(server.pid)
        with PeakRss(server.pid) as peak:
            await _upload(server.url, run.key.headers, big)
        return peak.peak - before


async def p8(run: Stack, rounds: int) -> list[Row]:
    small = await asyncio.to_thread(padded_mp4, run.tmp / "small.mp4", 0)
    big = await asyncio.to_thread(padded_mp4, run.tmp / "big.mp4", SIZE)
    growth = [await _growth_kib(run, small, big) / 1024 for _ in range(rounds)]
    big.unlink()
    mib = statistics.median(growth)
    return [Row("P8", "API RSS growth for a 200 MB upload", f"{mib:.1f} MiB", "≤ 8 MiB", mib <= 8,
                f"peak VmRSS during the upload minus before, fresh server each round: "
                f"{', '.join(f'{g:.1f}' for g in growth)} MiB",
                f"python -m bench.hotpaths --only P8 --rounds {rounds}")]
