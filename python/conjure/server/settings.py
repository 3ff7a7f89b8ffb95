"""Server configuration: one validated settings object.

Values come, highest priority first, from keyword arguments, ``CONJURE_*``
environment variables, an optional TOML file named by ``CONJURE_CONFIG``, and the
defaults below, which run with no configuration at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "METERS"]

METERS = ("generate", "edit", "session", "session_minutes", "say", "tts_seconds")


class Settings(BaseSettings):
    """Everything the HTTP server reads at start.

    Environment variables are the upper-case field names with the ``CONJURE_``
    prefix (``CONJURE_DATA_DIR``, ``CONJURE_RATE_LIMIT_PER_SECOND``, ...); dict
    fields take JSON (``CONJURE_METER_LIMITS='{"generate": 50}'``).
    """

    # hide_input_in_errors: a refused value may hold a secret (a Redis or database URL's password).
    model_config = SettingsConfigDict(
        env_prefix="CONJURE_", extra="forbid", validate_default=True, hide_input_in_errors=True
    )

    data_dir: Path = Field(default=Path(".conjure-data"), description="directory of the store")
    database: Path | None = Field(default=None, description="the SQLite file (default: <data_dir>/conjure.db)")
    secret: SecretStr | None = Field(
        default=None,
        description="server secret: keys the API-key hashes and derives the user-token key, both inside the "
        "store; default: generated once and kept in the store",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "info"
    access_log: bool = True

    body_limit_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, description="largest request body accepted")
    rate_limit_per_second: float = Field(default=20.0, gt=0, description="token-bucket refill per key")
    rate_limit_burst: int = Field(default=40, ge=1, description="token-bucket size per key")
    auth_failure_per_second: float = Field(
        default=0.5, gt=0, description="wrong credentials or passwords forgiven per second, per client address and per email"
    )
    auth_failure_burst: int = Field(default=20, ge=1, description="wrong credentials allowed in a row before 429")
    password_hash_concurrency: int = Field(
        default=2, ge=1, le=64, description="password hashes (scrypt, 32 MiB each) computed at once per process"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token of GET /metrics; unset: /metrics answers loopback clients only"
    )
    meter_limit_per_day: int = Field(default=1000, ge=0, description="daily limit of every usage meter of an app")
    meter_limits: dict[str, int] = Field(
        default_factory=dict, description="per-meter daily limits set on every new app (overrides meter_limit_per_day)"
    )
    user_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60, description="lifetime of a us_ user token")
    shutdown_timeout_seconds: float = Field(default=30.0, ge=0, description="how long SIGTERM waits for in-flight requests")
    store_busy_timeout_seconds: float = Field(default=10.0, gt=0)
    store_max_bytes: int = Field(default=0, ge=0, description="cap on the database file size (0: none)")
    limits: dict[str, int] = Field(
        default_factory=dict, description="kernel gate limits (fields of conjure.Limits), defaults when empty"
    )


    # ------------------------------------------------------------------ agent
    agent_provider: Literal["offline", "openai"] = Field(
        default="offline", description="who turns prose into ops and worlds: the built-in grammar or a model server"
    )
    agent_base_url: str | None = Field(
        default=None, description="the OpenAI-compatible API root (…/v1) when agent_provider is openai"
    )
    agent_model: str | None = Field(default=None, description="the model name sent to the model server")
    agent_api_key: SecretStr | None = Field(default=None, description="bearer key of the model server (never logged)")
    agent_timeout_seconds: float = Field(default=30.0, gt=0, le=600, description="one model request, end to end")
    agent_allow_private: bool = Field(
        default=False, description="let the model server be on a private, link-local or loopback address"
    )
    agent_allow_loopback: bool = Field(default=False, description="let the model server be on 127.0.0.0/8 or ::1")
    agent_max_attempts: int = Field(default=3, ge=1, le=10, description="proposals per edit or generation (repairs)")
    agent_response_format: Literal["json_schema", "json_object", "none"] = Field(
        default="json_schema",
        description="how the model server is asked for structured answers: OpenAI's json_schema, llama.cpp's "
        "json_object with a schema, or none",
    )

    # ------------------------------------------------------------------ jobs
    job_workers: int = Field(default=1, ge=0, le=32, description="generation job threads per process (0: none)")
    job_timeout_seconds: float = Field(default=300.0, gt=0, description="a job running longer fails with job_timeout")
    job_max_attempts: int = Field(
        default=3, ge=1, le=20, description="claims of one job (a process died holding it) before it fails"
    )
    job_lease_grace_seconds: int = Field(
        default=30, ge=1, description="a job's lease is its timeout plus this; a dead process's job is reclaimed after it"
    )
    job_poll_seconds: float = Field(default=0.5, gt=0, le=60, description="how often an idle worker looks for jobs")

    # ------------------------------------------------------------------ webhooks
    webhook_dispatch: bool = Field(default=True, description="run the webhook dispatcher in this process")
    webhook_retry_schedule: list[float] = Field(
        default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0, 28800.0],
        description="seconds before each retry of a failed delivery (after attempt 1, 2, …)",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="one delivery attempt, in total (connect, send, headers)"
    )
    webhook_concurrency: int = Field(default=8, ge=1, le=256, description="deliveries attempted at once")
    webhook_per_endpoint_concurrency: int = Field(
        default=2, ge=1, le=64, description="deliveries attempted at once to one endpoint"
    )
    webhook_lease_seconds: int = Field(
        default=60, ge=1, description="a claimed delivery not recorded within this is claimed again"
    )
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="how often the dispatcher looks for due deliveries")

    # ------------------------------------------------------------------ assets
    asset_dir: Path | None = Field(default=None, description="where uploaded frames are kept (default: <data_dir>/assets)")
    asset_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, description="largest frame upload accepted")

    # ------------------------------------------------------------------ play sessions and the runtime
    session_app_cap: int = Field(default=20, ge=1, le=100000, description="live play sessions per app and mode at once")
    session_global_cap: int = Field(default=200, ge=1, le=100000, description="live play sessions on this server at once")
    session_minutes: int = Field(
        default=10, ge=1, le=1440, description="session_minutes reserved per admission (the longest a socket may play)"
    )
    session_reap_seconds: float = Field(
        default=15.0, gt=0, le=3600, description="how often expired and never-connected sessions are settled"
    )
    runtime_fps: float = Field(default=15.0, ge=0.5, le=120, description="frames per second sent to each session")
    runtime_width: int = Field(default=640, ge=64, le=1920, description="frame width in pixels")
    runtime_height: int = Field(default=360, ge=36, le=1080, description="frame height in pixels")
    runtime_threads: int = Field(default=1, ge=1, le=64, description="native render threads")
    runtime_jpeg_quality: int = Field(default=80, ge=1, le=100, description="JPEG quality of frames")
    runtime_usage_seconds: float = Field(default=10.0, gt=0, le=3600, description="interval of `usage` socket messages")
    demo: bool = Field(
        default=False,
        description="serve /play/{worldId} with a session token minted for the world's own app (test mode only); "
        "never turn on for a server reachable by others",
    )

    # ------------------------------------------------------------------ scale-out (docs/deploy.md)
    voice_workers: int = Field(default=1, ge=1, le=16, description="characters' TTS worker processes")
    voice_queue: int = Field(default=4, ge=0, le=256, description="TTS requests waiting for a worker (503 past it)")
    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis shared by every API process (redis://, rediss:// or unix://): rate-limit buckets and "
        "the runtime's messages; never logged",
    )
    redis_prefix: str = Field(
        default="conjure:", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:_.-]+$",
        description="prefix of every Redis key and channel (one per deployment sharing a Redis)",
    )

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: list[float]) -> list[float]:
        if not value or len(value) > 20:
            raise ValueError("webhook_retry_schedule: 1-20 delays")
        if any(not (0 < v <= 7 * 24 * 3600) for v in value):
            raise ValueError("webhook_retry_schedule: each delay in (0, 604800] seconds")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url: a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("agent_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("agent_base_url: an http(s):// URL")
        return value

    @model_validator(mode="after")
    def _provider_complete(self) -> Settings:
        if self.agent_provider == "openai" and (not self.agent_base_url or not self.agent_model):
            raise ValueError("agent_provider openai needs agent_base_url and agent_model")
        return self

    @field_validator("meter_limits")
    @classmethod
    def _known_meters(cls, value: dict[str, int]) -> dict[str, int]:
        for meter, limit in value.items():
            if meter not in METERS:
                raise ValueError(f"unknown meter {meter!r} (one of {', '.join(METERS)})")
            if limit < 0:
                raise ValueError(f"meter_limits.{meter}: must be >= 0")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.lower()
        if value not in ("critical", "error", "warning", "info", "debug"):
            raise ValueError("log_level: critical, error, warning, info or debug")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("CONJURE_CONFIG")
        if config:
            path = Path(config)
            if not path.is_file():
                raise ValueError(f"CONJURE_CONFIG: no file at {path}")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # ------------------------------------------------------------------ derived
    @property
    def database_path(self) -> Path:
        return self.database if self.database is not None else self.data_dir / "conjure.db"

    @property
    def multi_process(self) -> bool:
        """True when this process may be one of several serving the same store."""
        return self.workers > 1 or self.redis_url is not None

    @property
    def asset_path(self) -> Path:
        return self.asset_dir if self.asset_dir is not None else self.data_dir / "assets"

    def agent(self) -> Any:
        """A fresh agent provider for the configured ``agent_provider``."""
        from conjure.agent import OfflineProvider, OpenAICompatibleProvider

        if self.agent_provider == "offline":
            return OfflineProvider()
        key = self.agent_api_key.get_secret_value() if self.agent_api_key is not None else None
        return OpenAICompatibleProvider(
            str(self.agent_base_url),
            str(self.agent_model),
            api_key=key or None,
            timeout=self.agent_timeout_seconds,
            allow_private=self.agent_allow_private,
            allow_loopback=self.agent_allow_loopback,
            response_format=self.agent_response_format,
        )

    def gate_limits(self) -> Any:
        """A ``conjure.Limits`` for the configured gate limits, or None for the defaults."""
        if not self.limits:
            return None
        from conjure import Limits

        return Limits(**self.limits)
