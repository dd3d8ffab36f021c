"""Typed, frozen settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    """What every service needs. Subclasses set ``model_config`` with their own ``env_prefix``
    (for example ``EXAM_SESSION_``) and add their own fields."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    service_name: str = "proctor"
    log_level: str = "INFO"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port (tests)")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_client_id: str = ""
    kafka_group_id: str = ""
    # where a consumer group without a committed offset starts: earliest (production) or latest
    kafka_offset_reset: str = "earliest"
    database_url: SecretStr = SecretStr("postgresql://proctor@127.0.0.1:15432/proctor")
    db_pool_min: int = 1
    db_pool_max: int = 10
    # Ed25519 public keys that verify tokens, as "kid:base64url(raw 32 bytes)" comma-separated.
    token_public_keys: str = ""
    # this service's own signing key (only services that issue tokens need one), "kid:base64url(seed)"
    token_signing_key: SecretStr = SecretStr("")
    # this service's identity token for calling other services
    service_token: SecretStr = SecretStr("")
    shutdown_grace_s: float = 10.0
    kafka_handler_retries: int = 5

    def masked(self) -> dict[str, Any]:
        """The effective configuration with every secret masked, for the one start-up log line."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "***" if value.get_secret_value() else ""
            else:
                out[name] = value if isinstance(value, int | float | bool | str | None) else str(value)
        return out
