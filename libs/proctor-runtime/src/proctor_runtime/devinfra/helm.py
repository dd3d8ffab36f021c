"""The ``helm`` client for the chart's offline CI checks (lint, template), built from its Go module.

Same recipe as the MinIO server: ``go install`` through the Go module proxy into one folder per
pinned version under the state directory, module and build caches under ``<state>/cache/go``, so
a rerun finds the binary and returns at once. Helm is a build tool only; nothing talks to a cluster.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from proctor_runtime.devinfra.config import InfraSettings
from proctor_runtime.devinfra.gobuild import find_go, go_install

log = logging.getLogger(__name__)

MODULE = "helm.sh/helm/v3/cmd/helm"
VERSION = "v3.22.0"


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
        return find_go()

    def install(self) -> None:
        """Build the pinned helm into the state dir unless it is there already (a few minutes cold)."""
        if self.installed():
            return
        go_install(MODULE, self.version, "helm", self.bin_dir, self.settings.state / "cache" / "go", self.build_log,
                   "Go is needed to build helm (go install through the Go module proxy): install Go >= 1.21")
