"""The one settings class. Every variable has the ``ATELIER_`` prefix.

Other ``atelier`` commands run with the same ``ATELIER_HOME`` as ``atelier dev`` read
``$ATELIER_HOME/dev.env`` so they talk to the running development stack; real
environment variables always win over that file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.media.voices import VoiceId

DEFAULT_SIGNING_SECRET = "atelier-dev-signing-secret-change-me"
MIN_SIGNING_SECRET_LENGTH = 32


def _home() -> Path:
    return Path(os.environ.get("ATELIER_HOME", ".atelier")).expanduser()


def dev_env_path() -> Path:
    return _home() / "dev.env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_", extra="ignore")

    home: Path = Path(".atelier")
    database_url: str | None = None
    redis_url: str | None = None
    #: Prefix for every broker key, so several deployments (or test runs) can share one Redis.
    broker_prefix: str = ""
    api_url: str = "http://127.0.0.1:8000"
    public_url: str | None = None
    #: ``production`` makes the API refuse to start without its own signing secret.
    env: str = Field("development", pattern="^(development|production)$")
    #: Secret for the API's own signed URLs (provider callbacks, signed content links).
    #: ``atelier dev`` generates one per installation; the default is for tests and scripts only.
    signing_secret: SecretStr = SecretStr(DEFAULT_SIGNING_SECRET)

    storage: str = Field("local", pattern="^(local|s3)$")
    storage_dir: Path | None = None
    s3_bucket: str = "atelier"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"

    max_image_bytes: int = 20 * 1024 * 1024
    max_audio_bytes: int = 50 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    #: Any request body that is not a multipart upload (JSON).
    max_json_body_bytes: int = 1024 * 1024

    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 15.0
    #: Whole-fetch limit for an input given by URL (``input_image_url``, ``audio_url``).
    input_url_timeout_seconds: float = 30.0

    #: A queued job not picked up within this many seconds is published again by the sweeper.
    requeue_after_seconds: int = 120
    #: The lease: a running job whose heartbeat is older than this is considered lost, and
    #: another worker may claim it.
    heartbeat_timeout_seconds: int = 30
    #: How often a worker refreshes the lease of the job it runs.
    heartbeat_interval_seconds: float = 5.0
    #: How often beat runs the sweeper (lost messages, stale claims).
    sweep_interval_seconds: float = 5.0
    max_job_attempts: int = 3
    #: Mode → hard time limit of one run in seconds, overriding the mode registry's, as JSON:
    #: ``{"text_to_video": 1200}``. The soft limit (the job fails as TIMEOUT) comes 10 % earlier.
    job_time_limits: dict[str, float] = {}

    fal_key: SecretStr | None = None
    fal_queue_url: str = "https://queue.fal.run"
    #: Voice id → URL of a reference recording, for voice-cloning TTS models (fal-ai/f5-tts),
    #: as JSON: ``{"narrator": "https://…/narrator.wav", …}``; a key that is not one of
    #: ``GET /v1/voices`` fails at start-up.
    fal_voice_refs: dict[VoiceId, str] = {}
    replicate_api_token: SecretStr | None = None
    replicate_base_url: str = "https://api.replicate.com/v1"
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    models_file: Path | None = None
    #: How long a synchronous OpenAI-style media call (images, transcriptions) waits for its job
    #: before answering ``202`` with the job instead.
    sync_wait_seconds: float = Field(60.0, ge=0)
    #: Lifetime of the signed content URLs the OpenAI-compatible endpoints answer with (≤ 7 days).
    signed_url_seconds: int = Field(3600, ge=1, le=7 * 24 * 3600)
    #: Chat and embedding relays: the longest wait for an upstream's next bytes, and to connect.
    relay_timeout_seconds: float = 600.0
    relay_connect_timeout_seconds: float = 10.0

    #: Per process; every prefork worker child is a process, so keep the sum under the server's
    #: ``max_connections``. Connections are opened on demand, so a worker child holds the two or
    #: three it uses; the size is for the API, whose worker threads (40) serve requests at once:
    #: with 5 kept, 16 concurrent clients made the pool close and reopen a connection (a
    #: PostgreSQL backend each) for one GET in four (docs/performance.md).
    db_pool_size: int = 20
    db_max_overflow: int = 10

    log_level: str = "INFO"
    #: ``json`` (one object per line, for log pipelines) or ``text`` (``atelier dev``).
    log_format: str = Field("json", pattern="^(json|text)$")
    #: Each worker node serves its pool's merged metrics here (0: off); see shared/metrics.py.
    worker_metrics_port: int = 0
    worker_metrics_address: str = "127.0.0.1"
    #: Basic auth for ``atelier flower`` (UI and its /api); ``atelier dev`` generates both.
    flower_user: str | None = None
    flower_password: SecretStr | None = None

    #: Failed logins allowed per email and per client address within the window, then 429.
    login_failures_per_email: int = 5
    login_failures_per_address: int = 30
    login_failure_window_seconds: int = 900
    #: Sign-up attempts (with an acceptable password) allowed per client address within the window, then 429.
    signups_per_address: int = Field(10, ge=1)
    signup_window_seconds: int = Field(3600, ge=1)
    session_idle_days: int = 14

    @property
    def storage_root(self) -> Path:
        return self.storage_dir or (self.home / "storage")

    @property
    def base_url(self) -> str:
        return (self.public_url or self.api_url).rstrip("/")

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError(
                "ATELIER_DATABASE_URL is not set (run `atelier dev`, or point it at PostgreSQL)"
            )
        return self.database_url

    def check_production(self) -> None:
        """Refuse to serve in production with a signing secret anyone could know."""
        if self.env != "production":
            return
        secret = self.signing_secret.get_secret_value()
        if secret == DEFAULT_SIGNING_SECRET or len(secret) < MIN_SIGNING_SECRET_LENGTH:
            raise RuntimeError(
                f"ATELIER_ENV=production needs ATELIER_SIGNING_SECRET: a random value of at least "
                f"{MIN_SIGNING_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))'`), the same for the API and every worker"
            )

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError("ATELIER_REDIS_URL is not set (run `atelier dev`, or point it at Redis)")
        return self.redis_url


@lru_cache
def get_settings() -> Settings:
    env_file = dev_env_path()
    return Settings(_env_file=env_file if env_file.exists() else None, home=_home())  # type: ignore[call-arg]


def reset_settings() -> None:
    """Forget the cached settings (tests, and `atelier dev` after writing dev.env)."""
    get_settings.cache_clear()
