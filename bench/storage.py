"""S3 result upload against a bare ``put_object`` of the same object, in the same run.

    python -m bench.storage [--rounds N] [--per-round N] [--size BYTES]

Issue 13 P7: ``S3Storage.put_file`` of a 194 KiB result ÷ the bare ``client.put_object`` of
the same bytes with the same client. S3 is moto's in-process mock (no network), so what is
compared is the client-side cost of our path — before the fix, boto3's managed transfer
built a transfer manager and thread pool per call. Rounds alternate ours/bare (and which
goes first), each round timing ``--per-round`` uploads; the ratio is of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from moto import mock_aws

from shared.storage.s3 import S3Storage

BUCKET = "atelier-bench"


def _timed(upload: Callable[[int], None], count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        upload(i)
    return (time.perf_counter() - started) / count


def measure(rounds: int, per_round: int, size: int) -> tuple[float, float]:
    """(median seconds per upload: ours, bare)."""
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp, mock_aws():
        source = Path(tmp) / "result.png"
        source.write_bytes(os.urandom(size))
        storage = S3Storage(BUCKET, region="us-east-1")
        storage.ensure_bucket()
        client = storage.client

        def ours(i: int) -> None:
            storage.put_file(f"ours/{i}.png", source, content_type="image/png")

        def bare(i: int) -> None:
            with source.open("rb") as body:
                client.put_object(Bucket=BUCKET, Key=f"bare/{i}.png", Body=body, ContentType="image/png")

        _timed(ours, per_round)  # warm-up: first-use imports, connection set-up
        _timed(bare, per_round)
        ours_times, bare_times = [], []
        for round_ in range(rounds):
            order = [(ours, ours_times), (bare, bare_times)]
            for upload, times in order if round_ % 2 == 0 else reversed(order):
                times.append(_timed(upload, per_round))
    return statistics.median(ours_times), statistics.median(bare_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--size", type=int, default=194 * 1024)
    args = parser.parse_args()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    ours, bare = measure(args.rounds, args.per_round, args.size)
    print(f"S3 upload of {args.size} bytes: ours {ours * 1000:.2f} ms, bare put_object {bare * 1000:.2f} ms, "
          f"ratio {ours / bare:.2f} ({args.rounds} alternating rounds × {args.per_round})")


if __name__ == "__main__":
    main()
