"""A local S3 endpoint: the MinIO server, built from its Go module and run as a separate process.

MinIO's server is licensed under the GNU AGPLv3. The project only builds it (``go install``
through the Go module proxy, cached under the state directory) and runs it as a development and
test dependency on loopback; it is never linked into, imported by or shipped with the project.
Production points the services at a real S3-compatible service instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from proctor_runtime.devinfra.config import InfraSettings
from proctor_runtime.devinfra.gobuild import go_install
from proctor_runtime.devinfra.process import InfraError, port_in_use, read_pid, spawn, stop_pid, wait_until

log = logging.getLogger(__name__)

MODULE = "github.com/minio/minio"


@dataclass(frozen=True)
class S3Endpoint:
    """What a client needs to talk to the local server (fixed development credentials)."""

    endpoint_url: str
    region: str
    access_key: str
    secret_key: str
    bucket: str


@dataclass
class MinioServer:
    settings: InfraSettings

    @property
    def home(self) -> Path:
        return self.settings.state / "minio"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "minio.log"

    @property
    def build_log(self) -> Path:
        return self.home / "build.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "minio.pid"

    @property
    def bin_dir(self) -> Path:
        """One folder per pinned version, so a version bump rebuilds instead of reusing a stale binary."""
        return self.settings.state / "tools" / "minio" / self.settings.minio_version

    @property
    def binary(self) -> Path:
        return self.bin_dir / "minio"

    @property
    def endpoint(self) -> S3Endpoint:
        s = self.settings
        return S3Endpoint(s.minio_endpoint, s.minio_region, s.minio_user,
                          s.minio_password.get_secret_value(), s.minio_bucket)

    def installed(self) -> bool:
        return self.binary.is_file() and os.access(self.binary, os.X_OK)

    def install(self) -> None:
        """``go install`` the pinned MinIO release into the state dir; the module and build caches
        live under ``<state>/cache/go`` so CI can keep them between runs."""
        if self.installed():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        go_install(MODULE, self.settings.minio_version, "minio", self.bin_dir, self.settings.state / "cache" / "go",
                   self.build_log, "Go is needed to build the local MinIO server (go install through the Go module "
                   "proxy): install Go >= 1.21 (it fetches the toolchain MinIO asks for), or set "
                   "PROCTOR_INFRA_MINIO=0 to run without the local S3 server (the S3 tests then skip)")

    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def running(self) -> bool:
        return self.pid() is not None

    def ready(self, timeout_s: float = 2.0) -> bool:
        """MinIO's liveness endpoint answers 200."""
        try:
            with urllib.request.urlopen(f"{self.settings.minio_endpoint}/minio/health/live",
                                        timeout=timeout_s) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def start(self) -> None:
        timeout = self.settings.minio_start_timeout_s
        if not self.running():
            if port_in_use(self.settings.minio_port):
                raise InfraError(f"port {self.settings.minio_port} is taken by another process; "
                                 "set PROCTOR_INFRA_MINIO_PORT")
            self.install()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "MINIO_ROOT_USER": self.settings.minio_user,
                   "MINIO_ROOT_PASSWORD": self.settings.minio_password.get_secret_value(),
                   "MINIO_BROWSER": "off",  # no web console, so no second port
                   "MINIO_UPDATE": "off", "MINIO_SITE_REGION": self.settings.minio_region}
            argv = [str(self.binary), "server", "--address", f"127.0.0.1:{self.settings.minio_port}",
                    "--anonymous", str(self.data_dir)]
            self.log_file.write_text("")
            spawn(argv, self.log_file, self.pid_file, env=env)
        try:
            wait_until(self.ready, timeout, self.running, "minio", self.log_file)
            wait_until(self._bucket_ready, timeout, self.running, "minio (creating the bucket)", self.log_file)
        except InfraError:
            self.stop()
            raise
        log.info("minio ready", extra={"endpoint": self.settings.minio_endpoint,
                                       "bucket": self.settings.minio_bucket})

    def stop(self) -> None:
        stop_pid(self.pid_file)

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _bucket_ready(self) -> bool:
        """Create the development bucket (a signed CreateBucket); True once it exists.
        A server still initialising answers 503 (retry); bad credentials fail at once."""
        status, body = self._s3_request("PUT", f"/{self.settings.minio_bucket}")
        if status == 200 or b"BucketAlreadyOwnedByYou" in body:
            return True
        if status in (401, 403):
            raise InfraError(f"minio refused the development credentials ({status}): {body[:300]!r}; "
                             f"delete {self.data_dir} (proctor infra reset) if they changed")
        return False

    def _s3_request(self, method: str, path: str) -> tuple[int, bytes]:
        """One AWS Signature V4 request with an empty body (enough for CreateBucket), stdlib only."""
        s = self.settings
        host = f"127.0.0.1:{s.minio_port}"
        now = dt.datetime.now(dt.UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload = hashlib.sha256(b"").hexdigest()
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": stamp}
        signed = ";".join(sorted(headers))
        canonical = "\n".join([method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "",
                               signed, payload])
        scope = f"{day}/{s.minio_region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + s.minio_password.get_secret_value()).encode()
        for part in (day, s.minio_region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"http://{host}{path}", method=method, headers={
            "x-amz-content-sha256": payload, "x-amz-date": stamp,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={s.minio_user}/{scope}, "
                             f"SignedHeaders={signed}, Signature={signature}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except OSError:
            return 0, b""
