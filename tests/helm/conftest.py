"""Fixtures of the chart's offline checks: the helm binary the project builds (``proctor infra install``,
run by ``scripts/setup``), promtool (Debian's prometheus), kubernetes-validate (.venv) and a cached render.

Regenerate the golden renders and ``files/topics.yaml`` with ``helm/regenerate``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helm_support import ROOT, Render, helm_template

from proctor_runtime.devinfra import InfraSettings
from proctor_runtime.devinfra.helm import HelmTool


@pytest.fixture(scope="session")
def helm() -> Path:
    tool = HelmTool(InfraSettings())
    if not tool.installed():
        pytest.skip(f"helm is not built at {tool.binary}: run scripts/setup (`proctor infra install` builds it "
                    "with go install; it needs Go)")
    return tool.binary


@pytest.fixture(scope="session")
def promtool() -> Path:
    found = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
    if found is None:
        pytest.skip("promtool is absent: scripts/setup installs Debian's prometheus package")
    return Path(found)


@pytest.fixture(scope="session")
def kubernetes_validate() -> Path:
    path = ROOT / ".venv" / "bin" / "kubernetes-validate"
    if not path.exists():
        pytest.skip("kubernetes-validate is absent from .venv: run scripts/setup")
    return path


@pytest.fixture(scope="session")
def render(helm: Path) -> Iterator[Render]:
    """Render the chart (cached per argument set); a failed render fails the test with helm's message."""
    cache: dict[tuple[object, ...], str] = {}

    def run(*values: Path, sets: tuple[str, ...] = ()) -> str:
        key = (values, sets)
        if key not in cache:
            result = helm_template(helm, *values, sets=sets)
            assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
            cache[key] = result.stdout
        return cache[key]

    yield run
