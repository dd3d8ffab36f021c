"""Local development infrastructure: a real Kafka broker (KRaft), a private PostgreSQL cluster and a
MinIO server as the local S3 endpoint.

Everything lives under one ignored state directory (``.state/`` at the repository root by
default). Used by ``proctor infra up|down|status``, ``scripts/test``, ``scripts/demo`` and the
pytest fixtures. Not used in production, where Kafka, PostgreSQL and object storage are external services.
"""

from proctor_runtime.devinfra.config import InfraSettings, repo_root
from proctor_runtime.devinfra.kafka import KafkaBroker
from proctor_runtime.devinfra.minio import MinioServer, S3Endpoint
from proctor_runtime.devinfra.postgres import PostgresCluster
from proctor_runtime.devinfra.process import InfraError

__all__ = ["InfraError", "InfraSettings", "KafkaBroker", "MinioServer", "PostgresCluster", "S3Endpoint", "repo_root"]
