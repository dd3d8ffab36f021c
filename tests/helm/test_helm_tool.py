"""The helm build step of `proctor infra install`: `go install` into one folder per pinned version under the
state dir, with the Go caches there too; a second install finds the binary and does not run Go again.
A stand-in `go` on PATH records its calls (the real build is exercised by scripts/setup)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proctor_runtime.devinfra import InfraError, InfraSettings
from proctor_runtime.devinfra.helm import MODULE, VERSION, HelmTool

FAKE_GO = """#!/bin/sh
echo "$@ GOBIN=$GOBIN GOMODCACHE=$GOMODCACHE" >> "{calls}"
[ -n "{fail}" ] && {{ echo "build broke" >&2; exit 1; }}
printf '#!/bin/sh\\necho v3.22.0\\n' > "$GOBIN/helm" && chmod +x "$GOBIN/helm"
"""


def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> Path:
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.txt"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO.format(calls=calls, fail="yes" if fail else ""))
    go.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_install_builds_once_into_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_go(tmp_path, monkeypatch)
    tool = HelmTool(InfraSettings(state_dir=tmp_path / "state"))
    assert not tool.installed()
    tool.install()
    assert tool.installed() and tool.binary == tmp_path / "state" / "tools" / "helm" / VERSION / "helm"
    (line,) = calls.read_text().splitlines()
    assert line.startswith(f"install {MODULE}@{VERSION} ")
    assert f"GOMODCACHE={tmp_path / 'state' / 'cache' / 'go' / 'mod'}" in line
    tool.install()  # cached: Go is not run again
    assert len(calls.read_text().splitlines()) == 1
    assert not (tool.bin_dir.parent / f"{VERSION}.partial").exists()


def test_a_failed_build_leaves_no_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_go(tmp_path, monkeypatch, fail=True)
    tool = HelmTool(InfraSettings(state_dir=tmp_path / "state"))
    with pytest.raises(InfraError, match="building helm failed"):
        tool.install()
    assert not tool.installed()
    assert "build broke" in tool.build_log.read_text()
