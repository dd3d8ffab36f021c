"""A private PostgreSQL cluster from Debian's package, under the state directory."""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from proctor_runtime.devinfra.config import InfraSettings
from proctor_runtime.devinfra.process import InfraError, port_in_use, run_checked, wait_until

log = logging.getLogger(__name__)

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"),
                     Path("/usr/lib/postgresql/17/bin")]
RUN_AS = "postgres"  # initdb refuses root; Debian's package creates this system user


def _reachable_by(user: str, path: Path) -> bool:
    """Whether ``user`` can traverse every folder down to ``path`` (o+x, or owner/group x)."""
    try:
        info = pwd.getpwnam(user)
    except KeyError:
        return False
    path.mkdir(parents=True, exist_ok=True)
    for folder in [path, *path.parents]:
        st = folder.stat()
        if st.st_mode & 0o001:
            continue
        if st.st_uid == info.pw_uid and st.st_mode & 0o100:
            continue
        if st.st_gid == info.pw_gid and st.st_mode & 0o010:
            continue
        return False
    return True


@dataclass
class PostgresCluster:
    settings: InfraSettings

    @cached_property
    def home(self) -> Path:
        """``<state>/postgres``, or, when the server's user cannot reach the state directory
        (a checkout under a private home directory), a folder of its own in /var/tmp."""
        preferred = self.settings.state / "postgres"
        if os.geteuid() != 0 or _reachable_by(RUN_AS, self.settings.state):
            return preferred
        digest = hashlib.sha256(str(self.settings.state).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"proctor-postgres-{digest}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    def bin(self, name: str) -> str:
        for candidate in PG_BIN_CANDIDATES:
            if (candidate / name).exists():
                return str(candidate / name)
        found = shutil.which(name)
        if found is None:
            raise InfraError(f"{name} not found: run scripts/setup (apt package postgresql)")
        return found

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", RUN_AS, "--", *argv]

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam(RUN_AS)
            os.chown(path, user.pw_uid, user.pw_gid)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialised():
            return
        for path in (self.home, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            self._chown(path)
        run_checked(self._as_owner([self.bin("initdb"), "-D", str(self.data_dir), "-U",
                                    self.settings.pg_user, "--auth=trust", "-E", "UTF8",
                                    "--locale=C.UTF-8"]),
                    "initdb of the private PostgreSQL cluster")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\n# proctor local cluster\nfsync = on\nmax_connections = 300\n"
                         "shared_buffers = 256MB\nsynchronous_commit = on\n"
                         "log_min_messages = warning\n")

    def ready(self) -> bool:
        result = subprocess.run(
            [self.bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.settings.pg_port),
             "-U", self.settings.pg_user, "-t", "1"],
            capture_output=True, check=False,
        )
        return result.returncode == 0

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = subprocess.run(
            self._as_owner([self.bin("pg_ctl"), "status", "-D", str(self.data_dir)]),
            capture_output=True, check=False,
        )
        return result.returncode == 0

    def start(self) -> None:
        if not self.running():
            if port_in_use(self.settings.pg_port):
                raise InfraError(f"port {self.settings.pg_port} is taken by another process; "
                                 "set PROCTOR_INFRA_PG_PORT")
            self.init()
            self.log_file.touch()
            self._chown(self.log_file)
            opts = f"-p {self.settings.pg_port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
            run_checked(self._as_owner([self.bin("pg_ctl"), "start", "-D", str(self.data_dir),
                                        "-l", str(self.log_file), "-o", opts, "-w", "-t",
                                        str(int(self.settings.pg_start_timeout_s))]),
                        f"starting PostgreSQL (read {self.log_file})")
        try:
            wait_until(self.ready, self.settings.pg_start_timeout_s, self.running,
                       "postgresql", self.log_file)
            self.ensure_database(self.settings.pg_database)
        except InfraError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.initialised() and self.running():
            run_checked(self._as_owner([self.bin("pg_ctl"), "stop", "-D", str(self.data_dir),
                                        "-m", "fast", "-w"]), "stopping PostgreSQL")

    def crash(self) -> None:
        """Immediate shutdown (every backend killed without a checkpoint, as in a crash): the next start
        replays the WAL."""
        if self.initialised() and self.running():
            run_checked(self._as_owner([self.bin("pg_ctl"), "stop", "-D", str(self.data_dir),
                                        "-m", "immediate", "-w"]), "crashing PostgreSQL")

    def psql(self, sql: str, database: str = "postgres") -> str:
        return run_checked([self.bin("psql"), "-h", "127.0.0.1", "-p", str(self.settings.pg_port),
                            "-U", self.settings.pg_user, "-d", database, "-tAX",
                            "-v", "ON_ERROR_STOP=1", "-c", sql], "psql")

    def ensure_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
