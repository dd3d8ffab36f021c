"""Settings of the local infrastructure (env prefix ``PROCTOR_INFRA_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def repo_root() -> Path:
    """The checkout this package is installed from (editable install in ``.venv``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "protos").is_dir() and (parent / "scripts").is_dir():
            return parent
    return Path.cwd()


class InfraSettings(BaseSettings):
    """Ports and paths of the local Kafka, PostgreSQL and MinIO; override to run two checkouts side by side."""

    model_config = SettingsConfigDict(env_prefix="PROCTOR_INFRA_", frozen=True)

    state_dir: Path | None = None
    kafka_version: str = "4.1.1"
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    kafka_heap: str = "-Xms256m -Xmx768m"
    kafka_start_timeout_s: float = 120.0
    pg_port: int = 15432
    pg_user: str = "proctor"
    pg_database: str = "proctor"
    pg_start_timeout_s: float = 60.0
    # MinIO, the local S3 endpoint of the S3 storage backend's tests (a Go build of a few minutes, cached);
    # PROCTOR_INFRA_MINIO=0 leaves it out (no Go needed; the S3 tests skip). Fixed development credentials.
    minio: bool = True
    minio_version: str = "v0.0.0-20260212201848-7aac2a2c5b7c"
    minio_port: int = 19000
    minio_user: str = "proctor-dev"
    minio_password: SecretStr = SecretStr("proctor-dev-secret")
    minio_region: str = "us-east-1"
    minio_bucket: str = "proctor-media"
    minio_start_timeout_s: float = 60.0

    @cached_property
    def state(self) -> Path:
        return (self.state_dir or repo_root() / ".state").resolve()

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def pg_dsn(self) -> str:
        return f"postgresql://{self.pg_user}@127.0.0.1:{self.pg_port}/{self.pg_database}"

    @property
    def minio_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.minio_port}"

    def pg_dsn_for(self, database: str) -> str:
        return f"postgresql://{self.pg_user}@127.0.0.1:{self.pg_port}/{database}"
