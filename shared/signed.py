"""Short-lived capabilities signed with ``ATELIER_SIGNING_SECRET``: asset content URLs handed
to upstream providers, and the per-job tokens in provider callback URLs."""

from __future__ import annotations

import hashlib
import hmac
import time

from shared.settings import Settings


def _mac(settings: Settings, message: str) -> str:
    key = settings.signing_secret.get_secret_value().encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:40]


def asset_url(settings: Settings, asset_id: str, expires_in: int = 900) -> str:
    expires = int(time.time()) + expires_in
    signature = _mac(settings, f"asset:{asset_id}:{expires}")
    return f"{settings.base_url}/v1/assets/{asset_id}/content?expires={expires}&signature={signature}"


def verify_asset(settings: Settings, asset_id: str, expires: int, signature: str) -> bool:
    if expires < time.time():
        return False
    return hmac.compare_digest(_mac(settings, f"asset:{asset_id}:{expires}"), signature)


def callback_token(settings: Settings, provider: str, job_id: str) -> str:
    return f"{job_id}.{_mac(settings, f'callback:{provider}:{job_id}')}"


def verify_callback(settings: Settings, provider: str, token: str) -> str | None:
    """The job id a callback token was issued for, or None if it is not ours."""
    job_id, _, signature = token.rpartition(".")
    if not job_id or not hmac.compare_digest(_mac(settings, f"callback:{provider}:{job_id}"), signature):
        return None
    return job_id
