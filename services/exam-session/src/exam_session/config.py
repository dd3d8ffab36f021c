"""exam-session settings (env prefix ``EXAM_SESSION_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from proctor_runtime.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAM_SESSION_", frozen=True, extra="ignore")

    service_name: str = "exam-session"
    kafka_group_id: str = "exam-session"
    # how often the sweeper looks for due time-driven transitions (absent, finished, offline, ...)
    sweep_interval_s: float = 2.0
    # rows per sweep transaction (1M-candidate sittings are swept in batches)
    sweep_batch: int = 2000
    # phone device tokens live until the upload deadline plus this margin
    phone_token_margin_s: int = 3600
    # BindPhone attempts per client address per minute
    bind_attempts_per_minute: int = 20
    # help messages per candidate per minute
    help_messages_per_minute: int = 10
    # offline ops per SyncOfflineAnswers call
    max_offline_ops: int = 1000
    max_import_batch: int = 5000
    max_telemetry_batch: int = 500
    # the answering hot path (answer_batch.py): candidates remembered per replica (0 turns the hot path
    # off), ops per batched statement, and batched statements in flight (= its own connections)
    answer_memory_entries: int = 50_000
    answer_batch_max: int = 64
    answer_batch_connections: int = 1
