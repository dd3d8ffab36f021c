"""The ``helm`` client for the chart's offline CI checks (lint, template), built from its Go module.

Same recipe as the MinIO server: ``go install`` through the Go module proxy into one folder per
pinned version under the state directory, module and build caches under ``<state>/cache/go``, so
a rerun finds the binary and returns at once. Helm is a build tool only; nothing talks to a cluster.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from proctor_runtime.devinfra.config import InfraSettings
from proctor_runtime.devinfra.process import InfraError, tail

log = logging.getLogger(__name__)

MODULE = "helm.sh/helm/v3/cmd/helm"
VERSION = "v3.22.0"
GO_FALLBACK = Path("/usr/local/go/bin/go")


@dataclass
class HelmTool:
    settings: InfraSettings
    version: str = VERSION

    @property
    def bin_dir(self) -> Path:
        return self.settings.state / "tools" / "helm" / self.version

    @property
    def binary(self) -> Path:
        return self.bin_dir / "helm"

    @property
    def build_log(self) -> Path:
        return self.settings.state / "tools" / "helm" / "build.log"

    def installed(self) -> bool:
        return self.binary.is_file() and os.access(self.binary, os.X_OK)

    @staticmethod
    def go() -> str | None:
        return shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.exists() else None)

    def install(self) -> None:
        """Build the pinned helm into the state dir unless it is there already (a few minutes cold)."""
        if self.installed():
            return
        go = self.go()
        if go is None:
            raise InfraError("Go is needed to build helm (go install through the Go module proxy): install Go >= 1.21")
        cache = self.settings.state / "cache" / "go"
        partial = self.bin_dir.with_name(self.bin_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        env = {**os.environ, "GOPATH": str(cache / "path"), "GOCACHE": str(cache / "build"),
               "GOMODCACHE": str(cache / "mod"), "GOBIN": str(partial),
               "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -modcacherw".strip()}
        started = time.monotonic()
        with self.build_log.open("w") as out:
            result = subprocess.run([go, "install", f"{MODULE}@{self.version}"],
                                    stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
        if result.returncode != 0 or not (partial / "helm").is_file():
            raise InfraError(f"building helm failed (exit {result.returncode}); read {self.build_log}:\n"
                             f"{tail(self.build_log)}")
        shutil.rmtree(self.bin_dir, ignore_errors=True)
        partial.rename(self.bin_dir)
        for other in self.bin_dir.parent.iterdir():  # earlier pinned versions
            if other != self.bin_dir and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
        log.info("helm built", extra={"version": self.version, "seconds": round(time.monotonic() - started, 1)})
