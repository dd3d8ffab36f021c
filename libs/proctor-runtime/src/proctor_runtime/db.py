"""PostgreSQL: an async connection pool and forward-only SQL migrations per service.

Migrations are ``NNN_name.sql`` files in a service's ``migrations`` package, applied in order
inside one transaction each, under an advisory lock (so several replicas starting together
apply them once), recorded in ``schema_migrations``.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass
from importlib import resources

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    out = []
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            out.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    out.sort(key=lambda m: m.version)
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {package}: {versions}")
    return out


async def migrate(conn: AsyncConnection, service: str, migrations: list[Migration]) -> list[str]:
    """Apply the migrations not yet applied; returns their names. ``conn`` must be autocommit."""
    lock_id = zlib.crc32(b"proctor-migrate")  # one lock: services may share a database
    applied_now: list[str] = []
    # the lock comes first: even CREATE TABLE IF NOT EXISTS races between replicas
    await conn.execute("SELECT pg_advisory_lock(%s)", (lock_id,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (service text NOT NULL,"
            " version int NOT NULL, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))")
        await conn.commit()
        cur = await conn.execute("SELECT version FROM schema_migrations WHERE service = %s",
                                 (service,))
        done = {row[0] for row in await cur.fetchall()}
        await conn.commit()
        for migration in migrations:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    "INSERT INTO schema_migrations (service, version, name) VALUES (%s, %s, %s)",
                    (service, migration.version, migration.name))
            applied_now.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))
        await conn.commit()
    if applied_now:
        log.info("migrations applied", extra={"service": service, "migrations": applied_now})
    return applied_now


async def open_pool(dsn: str, min_size: int, max_size: int, name: str,
                    timeout_s: float = 30.0, autocommit: bool = False) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(dsn, min_size=min_size, max_size=max_size, name=name, open=False,
                               kwargs={"application_name": name, "autocommit": autocommit})
    await pool.open(wait=True, timeout=timeout_s)
    return pool
