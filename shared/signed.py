"""Short-lived capabilities signed with ``ATELIER_SIGNING_SECRET``: asset content URLs handed
to upstream providers, and the per-job tokens in provider callback URLs."""

from __future__ import annotations

import hashlib
import hmac
import time

from shared.settings import Settings

#: No signed link outlives a week, whatever the caller asks for.
MAX_EXPIRES_IN = 7 * 24 * 3600


def _mac(settings: Settings, message: str) -> str:
    key = settings.signing_secret.get_secret_value().encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:40]


def asset_url(settings: Settings, asset_id: str, expires_in: int = 900) -> str:
    expires = int(time.time()) + min(expires_in, MAX_EXPIRES_IN)
    signature = _mac(settings, f"asset:{asset_id}:{expires}")
    return f"{settings.base_url}/v1/assets/{asset_id}/content?expires={expires}&signature={signature}"


def verify_asset(settings: Settings, asset_id: str, expires: int, signature: str) -> bool:
    now = time.time()
    if not now <= expires <= now + MAX_EXPIRES_IN:
        return False
    return _equal(_mac(settings, f"asset:{asset_id}:{expires}"), signature)


def _equal(expected: str, given: str) -> bool:
    # On bytes: compare_digest refuses non-ASCII str (a TypeError, which was a 500).
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def callback_token(settings: Settings, provider: str, job_id: str) -> str:
    return f"{job_id}.{_mac(settings, f'callback:{provider}:{job_id}')}"


def verify_callback(settings: Settings, provider: str, token: str) -> str | None:
    """The job id a callback token was issued for, or None if it is not ours."""
    job_id, _, signature = token.rpartition(".")
    if not job_id or not _equal(_mac(settings, f"callback:{provider}:{job_id}"), signature):
        return None
    return job_id
