"""One behaviour suite for every storage backend: the filesystem, and S3 under moto."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from moto import mock_aws

from shared.settings import Settings
from shared.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    attachment_disposition,
    build_storage,
    get_storage,
    reset_storage,
)
from shared.storage.s3 import PART_SIZE

KEY = "accounts/acc_1/assets/ast_1/picture.png"
DATA = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes, every position distinguishable enough
MiB = 1024 * 1024


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Fake credentials, and no chance of reading a developer's real AWS configuration.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects")
        return
    request.getfixturevalue("aws_env")
    with mock_aws():
        s3 = S3Storage("atelier-test", region="us-east-1")
        s3.ensure_bucket()
        yield s3


def put_bytes(storage: Storage, key: str, data: bytes, content_type: str = "image/png") -> None:
    storage.put(key, io.BytesIO(data), content_type=content_type)


def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(storage.iter_bytes(key, start, end))


class GeneratedFile(io.RawIOBase):
    """A seekable file of ``size`` deterministic bytes that are never all in memory.

    Records every ``read`` size so a test can see how the backend consumes it.
    """

    # Byte p is _BLOCK[p % len(_BLOCK)]; 65,537 bytes long so it never divides a part size.
    _BLOCK = hashlib.sha256(b"atelier").digest() * 2048 + b"!"

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_sizes: list[int | None] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        self.read_sizes.append(size)
        if size is None or size < 0:
            size = self.size - self.position
        data = self.bytes_at(self.position, min(size, self.size - self.position))
        self.position += len(data)
        return data

    @classmethod
    def bytes_at(cls, position: int, length: int) -> bytes:
        out = bytearray()
        while len(out) < length:
            offset = (position + len(out)) % len(cls._BLOCK)
            out += cls._BLOCK[offset : offset + length - len(out)]
        return bytes(out)

    @classmethod
    def sha256(cls, size: int) -> str:
        digest = hashlib.sha256()
        for position in range(0, size, MiB):
            digest.update(cls.bytes_at(position, min(MiB, size - position)))
        return digest.hexdigest()


class FailingFile(io.RawIOBase):
    """Yields some bytes, then fails as a dropped client upload would."""

    def __init__(self, good_bytes: int) -> None:
        self.remaining = good_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self.remaining <= 0:
            raise ConnectionResetError("client went away")
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        self.remaining -= size
        return b"x" * size


def test_backends_implement_the_protocol(storage: Storage) -> None:
    assert isinstance(storage, Storage)


def test_put_then_size_exists_and_read_back(storage: Storage) -> None:
    put_bytes(storage, KEY, DATA)

    assert storage.size(KEY) == len(DATA)
    assert storage.exists(KEY)
    assert not storage.exists("accounts/acc_1/assets/ast_2/picture.png")
    assert read_all(storage, KEY) == DATA


def test_put_replaces_an_existing_object(storage: Storage) -> None:
    put_bytes(storage, KEY, DATA)
    put_bytes(storage, KEY, b"second")

    assert read_all(storage, KEY) == b"second"
    assert storage.size(KEY) == 6


def test_empty_object(storage: Storage) -> None:
    put_bytes(storage, KEY, b"")

    assert storage.size(KEY) == 0
    assert read_all(storage, KEY) == b""
    assert read_all(storage, KEY, 0, 10) == b""


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 0),  # the first byte
        (0, 99),
        (100, 1_099),
        (5, None),  # from an offset to the end
        (len(DATA) - 4, len(DATA) - 1),  # the last bytes, exactly
        (len(DATA) - 4, len(DATA) + 1_000),  # an end past the object is clamped
        (len(DATA) - 1, None),
        (len(DATA), None),  # starting at the end: nothing
        (len(DATA) + 50, len(DATA) + 60),
    ],
)
def test_ranges_are_inclusive_like_http(storage: Storage, start: int, end: int | None) -> None:
    put_bytes(storage, KEY, DATA)

    expected = DATA[start : None if end is None else end + 1]
    assert read_all(storage, KEY, start, end) == expected


def test_iter_bytes_respects_chunk_size(storage: Storage) -> None:
    put_bytes(storage, KEY, DATA)

    chunks = list(storage.iter_bytes(KEY, 10, 5_009, chunk_size=1_000))

    assert b"".join(chunks) == DATA[10:5_010]
    assert max(len(chunk) for chunk in chunks) <= 1_000
    assert len(chunks) >= 5


@pytest.mark.parametrize(("start", "end"), [(-1, None), (10, 9)])
def test_bad_ranges_are_refused(storage: Storage, start: int, end: int | None) -> None:
    put_bytes(storage, KEY, DATA)

    with pytest.raises(ValueError):
        storage.iter_bytes(KEY, start, end)


def test_missing_objects(storage: Storage, tmp_path: Path) -> None:
    missing = "accounts/acc_1/assets/ast_404/nothing.png"

    assert not storage.exists(missing)
    with pytest.raises(ObjectNotFound):
        storage.size(missing)
    with pytest.raises(ObjectNotFound):
        storage.iter_bytes(missing)  # raised on the call, before any iteration
    with pytest.raises(ObjectNotFound):
        storage.download_to(missing, tmp_path / "out" / "nothing.png")
    assert not (tmp_path / "out" / "nothing.png").exists()
    storage.delete(missing)  # idempotent


def test_delete(storage: Storage) -> None:
    put_bytes(storage, KEY, DATA)
    put_bytes(storage, "accounts/acc_1/assets/ast_2/other.png", b"other")

    storage.delete(KEY)
    storage.delete(KEY)

    assert not storage.exists(KEY)
    with pytest.raises(ObjectNotFound):
        storage.size(KEY)
    assert read_all(storage, "accounts/acc_1/assets/ast_2/other.png") == b"other"


def test_download_to_and_put_file(storage: Storage, tmp_path: Path) -> None:
    put_bytes(storage, KEY, DATA)
    target = tmp_path / "downloads" / "nested" / "picture.png"

    storage.download_to(KEY, target)

    assert target.read_bytes() == DATA
    assert os.listdir(target.parent) == ["picture.png"]  # no temporary files left behind

    storage.put_file("accounts/acc_1/assets/ast_3/copy.png", target, content_type="image/png")
    assert read_all(storage, "accounts/acc_1/assets/ast_3/copy.png") == DATA


def test_large_put_streams_in_bounded_reads(storage: Storage) -> None:
    size = 20 * MiB + 123
    source = GeneratedFile(size)

    storage.put(KEY, source, content_type="video/mp4")  # type: ignore[arg-type]

    assert storage.size(KEY) == size
    assert source.read_sizes, "the backend never read the file"
    assert all(n is not None and n > 0 for n in source.read_sizes), source.read_sizes
    assert max(n for n in source.read_sizes if n is not None) <= PART_SIZE
    digest = hashlib.sha256()
    for chunk in storage.iter_bytes(KEY, chunk_size=MiB):
        digest.update(chunk)
    assert digest.hexdigest() == GeneratedFile.sha256(size)


def test_failed_put_leaves_no_partial_object(storage: Storage) -> None:
    put_bytes(storage, KEY, b"the previous version")

    with pytest.raises(ConnectionResetError):
        storage.put(KEY, FailingFile(3 * MiB), content_type="image/png")  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError):
        storage.put("accounts/acc_1/assets/ast_9/new.png", FailingFile(1_000), content_type="image/png")  # type: ignore[arg-type]

    assert read_all(storage, KEY) == b"the previous version"
    assert not storage.exists("accounts/acc_1/assets/ast_9/new.png")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../outside.png",
        "accounts/../../outside.png",
        "accounts/acc_1/./x.png",
        "accounts//x.png",
        "accounts/acc_1/",
        "accounts\\acc_1\\x.png",
        "a" * 1_025,
    ],
)
def test_keys_that_escape_or_are_malformed_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        put_bytes(storage, key, b"x")
    with pytest.raises(InvalidKey):
        storage.exists(key)
    with pytest.raises(InvalidKey):
        storage.delete(key)


def test_check_passes_for_a_usable_backend(storage: Storage) -> None:
    storage.check()


def test_local_writes_under_root_and_prunes_empty_directories(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    storage = LocalStorage(root)
    put_bytes(storage, KEY, DATA)

    assert (root / KEY).read_bytes() == DATA
    assert os.listdir(root / KEY.rsplit("/", 1)[0]) == ["picture.png"]

    storage.delete(KEY)
    assert os.listdir(root) == []
    assert storage.presigned_url(KEY) is None


def test_local_refuses_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "accounts").mkdir(parents=True)
    (root / "accounts" / "acc_1").symlink_to(outside)
    storage = LocalStorage(root)

    with pytest.raises(InvalidKey):
        put_bytes(storage, "accounts/acc_1/assets/ast_1/x.png", b"x")
    assert list(outside.iterdir()) == []


def test_local_check_fails_when_root_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")

    with pytest.raises(StorageError):
        LocalStorage(blocker / "objects").check()


def test_s3_presigned_url_is_signed_and_sets_response_headers(aws_env: None) -> None:
    with mock_aws():
        storage = S3Storage("atelier-test", region="eu-west-1")
        storage.ensure_bucket()
        storage.ensure_bucket()  # idempotent
        put_bytes(storage, KEY, DATA)

        url = storage.presigned_url(
            KEY, expires_in=120, content_type="image/png", download_filename='my "cat" é.png'
        )

    assert url is not None
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert parts.path.endswith("/" + KEY)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "120"
    assert query["X-Amz-Signature"]
    assert "X-Amz-Credential" in query and "X-Amz-SignedHeaders" in query
    assert query["response-content-type"] == "image/png"
    assert query["response-content-disposition"] == attachment_disposition('my "cat" é.png')
    assert query["response-content-disposition"].startswith('attachment; filename="my _cat_ _.png"')


def test_s3_presigned_url_refuses_long_expiry(aws_env: None) -> None:
    with mock_aws():
        storage = S3Storage("atelier-test", region="us-east-1")
        with pytest.raises(ValueError):
            storage.presigned_url(KEY, expires_in=8 * 24 * 3600)


def test_s3_check_fails_without_the_bucket(aws_env: None) -> None:
    with mock_aws():
        with pytest.raises(StorageError):
            S3Storage("no-such-bucket", region="us-east-1").check()


def test_attachment_disposition_keeps_the_exact_name_for_modern_clients() -> None:
    value = attachment_disposition("résumé final.pdf")

    assert value == "attachment; filename=\"r_sum_ final.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf"
    assert attachment_disposition("../../etc/passwd").startswith('attachment; filename=".._.._etc_passwd"')


def test_get_storage_follows_settings_and_is_cached(tmp_path: Path, aws_env: None) -> None:
    reset_storage()
    local_settings = Settings(storage="local", storage_dir=tmp_path / "objects")
    s3_settings = Settings(storage="s3", s3_bucket="media", s3_region="eu-west-1",
                           s3_endpoint_url="http://127.0.0.1:9000")
    try:
        local = get_storage(local_settings)
        assert isinstance(local, LocalStorage) and local.root == (tmp_path / "objects").resolve()
        assert get_storage(local_settings) is local
        assert build_storage(local_settings) is not local

        s3 = get_storage(s3_settings)
        assert isinstance(s3, S3Storage) and s3.bucket == "media"
        assert s3.client.meta.endpoint_url == "http://127.0.0.1:9000"
        assert s3.client.meta.region_name == "eu-west-1"
    finally:
        reset_storage()


def _s3_calls(s3: S3Storage) -> list[str]:
    """Names of the S3 operations ``s3``'s client makes from now on."""
    calls: list[str] = []
    s3.client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    return calls


@pytest.mark.parametrize(("size", "operations"), [
    (194 * 1024, ["PutObject"]),  # below the multipart threshold: one PUT, no transfer manager
    (PART_SIZE + 1, ["CreateMultipartUpload", "UploadPart", "UploadPart", "CompleteMultipartUpload"]),
])
def test_s3_put_file_uses_one_put_below_the_multipart_threshold(
    aws_env: None, tmp_path: Path, size: int, operations: list[str]
) -> None:
    source = tmp_path / "result.bin"
    source.write_bytes(os.urandom(1024) * (size // 1024) + os.urandom(size % 1024))
    with mock_aws():
        s3 = S3Storage("atelier-test", region="us-east-1")
        s3.ensure_bucket()
        calls = _s3_calls(s3)
        s3.put_file(KEY, source, content_type="video/mp4")
        assert sorted(calls) == sorted(operations)
        assert s3.size(KEY) == size
        assert s3.client.head_object(Bucket="atelier-test", Key=KEY)["ContentType"] == "video/mp4"
        assert b"".join(s3.iter_bytes(KEY)) == source.read_bytes()

