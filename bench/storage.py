"""S3 result upload against a bare ``put_object`` of the same object, in the same run.

    python -m bench.storage [--rounds N] [--per-round N] [--size BYTES]

Issue 13 P7: ``S3Storage.put_file`` of a 194 KiB result ÷ the bare ``client.put_object`` of
the same bytes with the same client. S3 is a loopback server answering ``PutObject`` (reads
the body, answers an ETag) so the server's cost is small and equal for both: what is compared
is the client-side cost of our path — before the fix, boto3's managed transfer built a
transfer manager and thread pool per call. (moto's in-process mock costs ~20 ms per PUT and
hides the difference.) Rounds alternate the contenders (and which
goes first), each round timing ``--per-round`` uploads; the ratio is of the medians. The
managed-transfer path used before (``upload_file`` for every size) is timed in the same rounds
for comparison.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from shared.storage.s3 import S3Storage

BUCKET = "atelier-bench"


class _PutObject(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as S3 does

    def do_PUT(self) -> None:  # noqa: N802 (http.server naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("ETag", '"0"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(port: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PutObject)
    port.put(server.server_address[1])
    server.serve_forever()


def _timed(upload: Callable[[int], None], count: int) -> tuple[float, float]:
    """(wall, CPU of this process: all its threads, the transfer manager's included) per upload."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        upload(i)
    return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def measure(rounds: int, per_round: int, size: int) -> dict[str, tuple[float, float]]:
    """Contender (ours, bare, managed) → median (wall, CPU) seconds per upload."""
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()  # its own process, so this one's CPU time is the client's alone
    port = ports.get(timeout=30)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        source = Path(tmp) / "result.png"
        source.write_bytes(os.urandom(size))
        storage = S3Storage(BUCKET, region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
        client = storage.client

        def ours(i: int) -> None:
            storage.put_file(f"ours/{i}.png", source, content_type="image/png")

        def bare(i: int) -> None:
            with source.open("rb") as body:
                client.put_object(Bucket=BUCKET, Key=f"bare/{i}.png", Body=body, ContentType="image/png")

        def managed(i: int) -> None:
            client.upload_file(str(source), BUCKET, f"managed/{i}.png", ExtraArgs={"ContentType": "image/png"},
                               Config=storage._transfer)

        contenders: list[tuple[Callable[[int], None], list[tuple[float, float]]]] = [
            (ours, []), (bare, []), (managed, [])]
        for upload, _ in contenders:
            _timed(upload, per_round)  # warm-up: first-use imports, connection set-up
        for round_ in range(rounds):
            for upload, times in contenders if round_ % 2 == 0 else reversed(contenders):
                times.append(_timed(upload, per_round))
    server.terminate()
    server.join(timeout=10)
    return {upload.__name__: (statistics.median(w for w, _ in times), statistics.median(c for _, c in times))
            for upload, times in contenders}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--size", type=int, default=194 * 1024)
    args = parser.parse_args()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    result = measure(args.rounds, args.per_round, args.size)
    print(f"S3 upload of {args.size} bytes, {args.rounds} alternating rounds × {args.per_round}, ms per upload:")
    for name, label in (("ours", "S3Storage.put_file"), ("bare", "bare put_object"), ("managed", "upload_file")):
        wall, cpu = result[name]
        print(f"  {label:20} wall {wall * 1000:7.2f}   client CPU {cpu * 1000:7.2f}")
    for index, what in ((0, "wall"), (1, "client CPU")):
        ours, bare, managed = (result[n][index] for n in ("ours", "bare", "managed"))
        print(f"P7 ({what}) ours ÷ bare put_object: {ours / bare:.2f}   "
              f"(upload_file ÷ bare, the path before: {managed / bare:.2f})")


if __name__ == "__main__":
    main()
