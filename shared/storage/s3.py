"""S3 storage through boto3: AWS in production, MinIO in docker-compose, moto in tests.

A file below ``PART_SIZE`` (most results: images, speech) is one ``put_object``: boto3's
managed transfer would build a transfer manager and a thread pool per call for a single PUT
(``bench/storage.py`` measures the difference). Larger files and streams of unknown size go
through the managed transfer (multipart above ``PART_SIZE``), which reads the source in
part-sized chunks and keeps at most ``IN_FLIGHT_PARTS`` of them in memory, so memory is
bounded however large the file is. Either way a key never holds a partial object: a single
PUT is atomic, and an interrupted multipart upload is aborted by the transfer manager.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.storage.base import (
    CHUNK_SIZE,
    ObjectNotFound,
    StorageError,
    StrPath,
    attachment_disposition,
    check_expiry,
    check_key,
    check_range,
)

MiB = 1024 * 1024
PART_SIZE = 8 * MiB
IN_FLIGHT_PARTS = 4

_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 5, "mode": "standard"},
    signature_version="s3v4",
)
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}
_BOTO_ERRORS = (ClientError, BotoCoreError, Boto3Error)


def _transfer_config() -> TransferConfig:
    config = TransferConfig(
        multipart_threshold=PART_SIZE,
        multipart_chunksize=PART_SIZE,
        max_concurrency=IN_FLIGHT_PARTS,
        preferred_transfer_client="classic",  # the CRT client ignores the bounds below
    )
    # Not a TransferConfig argument, but honoured by s3transfer: caps buffered parts.
    config.max_in_memory_upload_chunks = IN_FLIGHT_PARTS
    return config


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        self.bucket = bucket
        if client is None:
            config = _CLIENT_CONFIG
            if endpoint_url:  # MinIO and other S3-compatibles want path-style URLs
                config = config.merge(Config(s3={"addressing_style": "path"}))
            # A session per storage: boto3's default session is not thread-safe to create clients from.
            client = boto3.session.Session().client(
                "s3", region_name=region, endpoint_url=endpoint_url, config=config
            )
        self.client = client
        self._transfer = _transfer_config()

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r})"

    def put(self, key: str, fileobj: BinaryIO, *, content_type: str) -> None:
        with self._errors(check_key(key), "put"):
            self.client.upload_fileobj(
                fileobj, self.bucket, key, ExtraArgs={"ContentType": content_type}, Config=self._transfer
            )

    def put_file(self, key: str, path: StrPath, *, content_type: str) -> None:
        with self._errors(check_key(key), "put"):
            if os.path.getsize(path) < PART_SIZE:
                with open(path, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
                return
            self.client.upload_file(
                str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}, Config=self._transfer
            )

    def size(self, key: str) -> int:
        with self._errors(check_key(key), "head"):
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def iter_bytes(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        check_range(start, end)
        params = {"Bucket": self.bucket, "Key": check_key(key)}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            response = self.client.get_object(**params)
        except _BOTO_ERRORS as exc:
            if isinstance(exc, ClientError) and _error_code(exc) == "InvalidRange":
                return iter(())  # start is at or past the end: nothing to send
            raise self._translate(exc, key, "get") from exc
        return self._stream(key, response["Body"], chunk_size)

    def download_to(self, key: str, path: StrPath) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # s3transfer writes to a temporary name and renames it into place when done.
        with self._errors(check_key(key), "download"):
            self.client.download_file(self.bucket, key, str(target), Config=self._transfer)

    def presigned_url(
        self,
        key: str,
        *,
        expires_in: int = 300,
        content_type: str | None = None,
        download_filename: str | None = None,
    ) -> str | None:
        check_expiry(expires_in)
        params = {"Bucket": self.bucket, "Key": check_key(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        if download_filename:
            params["ResponseContentDisposition"] = attachment_disposition(download_filename)
        with self._errors(key, "presign"):
            return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))

    def delete(self, key: str) -> None:
        # S3 answers 204 for a missing key too, which makes this idempotent.
        with self._errors(check_key(key), "delete"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def check(self) -> None:
        with self._errors(None, "check"):
            self.client.head_bucket(Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development, MinIO, tests)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except _BOTO_ERRORS as exc:
            if not (isinstance(exc, ClientError) and _error_code(exc) in _NOT_FOUND_CODES | {"NoSuchBucket"}):
                raise self._translate(exc, None, "check") from exc
        params: dict[str, Any] = {"Bucket": self.bucket}
        region = self.client.meta.region_name
        if region and region != "us-east-1":  # us-east-1 refuses an explicit constraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**params)
        except _BOTO_ERRORS as exc:
            if isinstance(exc, ClientError) and _error_code(exc) == "BucketAlreadyOwnedByYou":
                return  # a concurrent ensure_bucket won the race
            raise self._translate(exc, None, "create") from exc

    def _stream(self, key: str, body: Any, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._errors(key, "read"):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    @contextmanager
    def _errors(self, key: str | None, action: str) -> Iterator[None]:
        try:
            yield
        except _BOTO_ERRORS as exc:
            raise self._translate(exc, key, action) from exc

    def _translate(self, exc: Exception, key: str | None, action: str) -> StorageError:
        """A missing ``key`` becomes ObjectNotFound; anything else a StorageError."""
        if key is not None and isinstance(exc, ClientError) and _error_code(exc) in _NOT_FOUND_CODES:
            return ObjectNotFound(key)
        target = repr(key) if key is not None else f"bucket {self.bucket!r}"
        return StorageError(f"S3 {action} of {target} failed: {exc}")
