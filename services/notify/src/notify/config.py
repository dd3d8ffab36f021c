"""notify settings (env prefix ``NOTIFY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from proctor_runtime.settings import BaseServiceSettings
from proctor_storage import StorageSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", frozen=True, extra="ignore")

    service_name: str = "notify"
    kafka_group_id: str = "notify"
    db_pool_max: int = 20
    # the proctor web console (HTTP); 0 picks a free port, -1 disables it
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=-1, le=65535)
    # items buffered per stream before a subscriber that does not read is dropped (SUBSCRIBER_TOO_SLOW)
    subscriber_buffer: int = 2000
    # open streams per replica (proctor + candidate)
    max_subscriptions: int = 5000
    keepalive_s: float = 15.0
    # feed items read from PostgreSQL per page when a subscriber catches up
    catch_up_page: int = 500
    # send candidates an automatic warning when a camera incident opens
    auto_warnings: bool = True
    # the proctor feed's replay window (resume cursors older than this get CURSOR_EXPIRED); the
    # incident log, chat and notices are kept
    feed_retention_h: float = 72.0
    prune_interval_s: float = 600.0
    max_chat_chars: int = 2000
    max_notice_chars: int = 500
    # evidence thumbnails for the console are read from the media store (MEDIA_STORAGE_*)
    storage: StorageSettings = Field(default_factory=StorageSettings)
