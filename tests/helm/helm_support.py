"""Shared helpers of the chart checks (conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "proctor"
EXAMPLES = sorted((ROOT / "helm" / "examples").glob("*.yaml"))
GOLDEN = ROOT / "helm" / "golden"
KUBE_VERSION = "1.34.0"
RELEASE = "proctor"
NAMESPACE = "proctor"
REGENERATE_HINT = "helm/regenerate (PROCTOR_HELM_REGENERATE=1 .venv/bin/pytest tests/helm -k 'golden or topics_file')"

Render = Callable[..., str]


def regenerate() -> bool:
    return os.environ.get("PROCTOR_HELM_REGENERATE") == "1"


def helm_template(helm: Path, *values: Path, sets: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`helm template`; each of `sets` is `key=<JSON value>` (--set-json keeps numbers numbers)."""
    argv = [str(helm), "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for path in values:
        argv += ["-f", str(path)]
    for item in sets:
        argv += ["--set-json", item]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def documents(manifest: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(manifest) if d]


def by_kind(manifest: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in documents(manifest) if d["kind"] == kind]


# (id, values files): the chart's defaults and every example under helm/examples
VALUE_SETS: list[tuple[str, tuple[Path, ...]]] = [("default", ()), *((p.stem, (p,)) for p in EXAMPLES)]
