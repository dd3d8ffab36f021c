"""Migrations and the pool against the real local PostgreSQL."""

import asyncio

import pytest
from psycopg import AsyncConnection

from proctor_runtime.db import load_migrations, migrate, open_pool

pytestmark = pytest.mark.infra

PACKAGE = "sample_migrations"


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent))


async def test_migrations_apply_once_in_order(pg_dsn):
    migrations = load_migrations(PACKAGE)
    assert [m.version for m in migrations] == [1, 2]
    async with await AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        assert await migrate(conn, "svc", migrations) == ["001_create_things.sql",
                                                          "002_add_column.sql"]
        assert await migrate(conn, "svc", migrations) == []
        cur = await conn.execute("SELECT count(*) FROM things")
        assert (await cur.fetchone())[0] == 1


async def test_concurrent_replicas_apply_migrations_once(pg_dsn):
    migrations = load_migrations(PACKAGE)

    async def replica() -> list[str]:
        async with await AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
            return await migrate(conn, "svc", migrations)

    results = await asyncio.gather(*(replica() for _ in range(4)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 2]


async def test_failed_migration_rolls_back_and_is_not_recorded(pg_dsn, tmp_path, monkeypatch):
    pkg = tmp_path / "bad_migrations"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "001_ok.sql").write_text("CREATE TABLE a (id int);")
    (pkg / "002_broken.sql").write_text("CREATE TABLE b (id int); SELECT no_such_function();")
    monkeypatch.syspath_prepend(str(tmp_path))
    async with await AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        with pytest.raises(Exception, match="no_such_function"):
            await migrate(conn, "bad", load_migrations("bad_migrations"))
        cur = await conn.execute("SELECT version FROM schema_migrations WHERE service = 'bad'")
        assert [row[0] for row in await cur.fetchall()] == [1]
        cur = await conn.execute("SELECT to_regclass('b')")
        assert (await cur.fetchone())[0] is None


async def test_pool_serves_queries(pg_dsn):
    pool = await open_pool(pg_dsn, 1, 4, "test")
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT 41 + 1")
            assert (await cur.fetchone())[0] == 42
    finally:
        await pool.close()
