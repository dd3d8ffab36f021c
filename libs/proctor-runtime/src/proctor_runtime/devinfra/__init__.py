"""Local development infrastructure: a real Kafka broker (KRaft) and a private PostgreSQL cluster.

Everything lives under one ignored state directory (``.state/`` at the repository root by
default). Used by ``proctor infra up|down|status``, ``scripts/test``, ``scripts/demo`` and the
pytest fixtures. Not used in production, where Kafka and PostgreSQL are external services.
"""

from proctor_runtime.devinfra.config import InfraSettings, repo_root
from proctor_runtime.devinfra.kafka import KafkaBroker
from proctor_runtime.devinfra.postgres import PostgresCluster
from proctor_runtime.devinfra.process import InfraError

__all__ = ["InfraError", "InfraSettings", "KafkaBroker", "PostgresCluster", "repo_root"]
