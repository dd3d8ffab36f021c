"""``go install`` of a pinned Go module into the state directory (MinIO, helm).

One folder per pinned version (a version bump rebuilds instead of reusing a stale binary), built
into ``<folder>.partial`` and renamed only when the binary exists, module and build caches under
``<state>/cache/go`` so reruns and CI caches are fast; earlier versions are removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from proctor_runtime.devinfra.process import InfraError, tail

log = logging.getLogger(__name__)

GO_FALLBACK = Path("/usr/local/go/bin/go")


def find_go() -> str | None:
    return shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.exists() else None)


def go_install(module: str, version: str, binary: str, bin_dir: Path, cache: Path, build_log: Path,
               missing_go: str) -> None:
    """Build ``module@version`` so that ``bin_dir/binary`` exists; raises InfraError with the build
    log's tail when it fails (``missing_go``: the message when no Go toolchain is found)."""
    go = find_go()
    if go is None:
        raise InfraError(missing_go)
    partial = bin_dir.with_name(bin_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    build_log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOPATH": str(cache / "path"), "GOCACHE": str(cache / "build"),
           "GOMODCACHE": str(cache / "mod"), "GOBIN": str(partial),
           "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -modcacherw".strip()}
    started = time.monotonic()
    with build_log.open("w") as out:
        result = subprocess.run([go, "install", f"{module}@{version}"], stdout=out, stderr=subprocess.STDOUT,
                                env=env, check=False)
    if result.returncode != 0 or not (partial / binary).is_file():
        raise InfraError(f"building {binary} failed (exit {result.returncode}); read {build_log}:\n"
                         f"{tail(build_log)}")
    shutil.rmtree(bin_dir, ignore_errors=True)
    partial.rename(bin_dir)
    for other in bin_dir.parent.iterdir():  # earlier pinned versions (MinIO: 150 MB each)
        if other != bin_dir and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    log.info("built with go install", extra={"module": module, "version": version,
                                             "seconds": round(time.monotonic() - started, 1)})
