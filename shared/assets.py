"""Assets: uploads (sniffed, probed, size-limited, streamed to storage) and job results."""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from shared.db.models import Asset, Job, JobInput
from shared.db.pagination import Page, paginate
from shared.db.session import after_commit, after_rollback
from shared.errors import AssetInUse, NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationError
from shared.ids import new_id
from shared.media.probe import MediaDecodeError, MediaInfo, probe
from shared.media.sniff import EXTENSIONS, matches_kind, sniff_content_type
from shared.settings import Settings
from shared.storage.base import Storage

KINDS = ("image", "audio", "video")
_CHUNK = 1024 * 1024


def max_bytes(settings: Settings, kind: str) -> int:
    return {"image": settings.max_image_bytes, "audio": settings.max_audio_bytes,
            "video": settings.max_video_bytes}[kind]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def storage_key(account_id: str, asset_id: str, filename: str) -> str:
    return f"accounts/{account_id}/assets/{asset_id}/{filename}"


def safe_filename(name: str | None, asset_id: str, content_type: str) -> str:
    ext = EXTENSIONS.get(content_type, "bin")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "").stem).strip("._")[:100]
    return f"{stem or asset_id}.{ext}"


def upload(session: Session, storage: Storage, settings: Settings, *, account_id: str, kind: str,
           stream: BinaryIO, filename: str | None) -> Asset:
    """Store an upload read from ``stream``, refused as soon as it passes the kind's limit."""
    if kind not in KINDS:
        raise ValidationError.field("kind", f"must be one of {', '.join(KINDS)}")
    limit = max_bytes(settings, kind)
    with tempfile.TemporaryDirectory(prefix="atelier-upload-") as tmp:
        path = Path(tmp) / "upload"
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"{kind} uploads are limited to {limit} bytes.",
                                          details={"max_bytes": limit})
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError.field("file", "is empty")
        return store_file(session, storage, settings, account_id=account_id, kind=kind, path=path, size=size,
                          filename=filename, source="upload", sha256=digest.hexdigest())


@dataclass(frozen=True)
class Checked:
    """What sniffing and probing found in a file: enough to store it without reading it again."""

    content_type: str
    info: MediaInfo
    sha256: str


def check_file(settings: Settings, *, kind: str, path: Path, sha256: str | None = None) -> Checked:
    """Sniff and probe a file on disk as a ``kind`` input (no database, no storage)."""
    with path.open("rb") as f:
        content_type = sniff_content_type(f.read(4096))
    if content_type is None or not matches_kind(content_type, kind):
        raise UnsupportedMediaType(
            f"The file is not a supported {kind} (detected: {content_type or 'unknown'}).",
            details={"kind": kind, "detected": content_type})
    try:
        info = probe(path, kind, max_pixels=settings.max_image_pixels)
    except MediaDecodeError as exc:
        raise UnsupportedMediaType(f"The {kind} does not decode: {exc}", details={"kind": kind}) from exc
    if kind == "image" and (info.width or 0) * (info.height or 0) > settings.max_image_pixels:
        raise PayloadTooLarge(f"Images are limited to {settings.max_image_pixels} pixels.",
                              details={"max_pixels": settings.max_image_pixels})
    # e.g. an audio-only MP4 is audio/mp4
    return Checked(info.content_type or content_type, info, sha256 or file_sha256(path))


def store_file(session: Session, storage: Storage, settings: Settings, *, account_id: str, kind: str, path: Path,
               size: int, filename: str | None, source: str, sha256: str | None = None,
               checked: Checked | None = None) -> Asset:
    """Sniff, probe (unless ``checked`` already) and store a file on disk (an upload, an input
    fetched by URL). The stored object is deleted if the transaction rolls back."""
    asset_id = new_id("ast")
    checked = checked or check_file(settings, kind=kind, path=path, sha256=sha256)
    name = safe_filename(filename, asset_id, checked.content_type)
    key = storage_key(account_id, asset_id, name)
    storage.put_file(key, path, content_type=checked.content_type)
    after_rollback(session, lambda: storage.delete(key))
    info = checked.info
    asset = Asset(id=asset_id, account_id=account_id, kind=kind, content_type=checked.content_type, bytes=size,
                  sha256=checked.sha256, width=info.width, height=info.height,
                  duration_seconds=info.duration_seconds, source=source, job_id=None, filename=name,
                  storage_key=key)
    session.add(asset)
    session.flush()
    return asset


def get_asset(session: Session, account_id: str, asset_id: str) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None or asset.account_id != account_id:
        raise NotFound(f"No asset {asset_id}.")
    return asset


def get_asset_by_id(session: Session, asset_id: str) -> Asset:
    """For signed URLs only: the signature, not an account, grants access."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"No asset {asset_id}.")
    return asset


def list_assets(session: Session, account_id: str, *, limit: int, after: str | None,
                kind: str | None = None) -> Page:
    stmt = select(Asset).where(Asset.account_id == account_id)
    if kind:
        stmt = stmt.where(Asset.kind == kind)
    return paginate(session, stmt, Asset, account_id=account_id, after=after, limit=limit)


def delete_asset(session: Session, storage: Storage, account_id: str, asset_id: str) -> None:
    asset = get_asset(session, account_id, asset_id)
    in_use = session.scalar(select(exists().where(
        JobInput.asset_id == asset.id, JobInput.job_id == Job.id, Job.status.in_(("queued", "running")))))
    if in_use:
        raise AssetInUse(f"Asset {asset_id} is an input of a queued or running job.")
    remove(session, storage, [asset])


def remove(session: Session, storage: Storage, assets: list[Asset]) -> None:
    """Delete asset rows now and their stored objects once the deletion has committed."""
    keys = [a.storage_key for a in assets]
    if assets:
        session.execute(delete(Asset).where(Asset.id.in_([a.id for a in assets])))
        for asset in assets:
            session.expunge(asset)
    def delete_objects() -> None:
        for key in keys:
            storage.delete(key)

    after_commit(session, delete_objects)
