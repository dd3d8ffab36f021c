"""Each example says which `proctor capacity` run sized it; its autoscaler maxima and partition counts must
hold the pods and partitions that run plans (so the examples move with docs/benchmarks.md's figures)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_support import CHART, EXAMPLES

from proctor_cli import commands_capacity
from proctor_cli.main import build_parser


def merged(example: Path) -> dict[str, Any]:
    def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in extra.items():
            out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        return out
    return merge(yaml.safe_load((CHART / "values.yaml").read_text()), yaml.safe_load(example.read_text()))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_holds_its_capacity_plan(example: Path) -> None:
    match = re.search(r"^# Sized with: proctor (capacity .+)$", example.read_text(), re.MULTILINE)
    assert match, f"{example.name} does not say which `proctor capacity` run sized it"
    args = build_parser().parse_args(shlex.split(match.group(1)))
    plan = commands_capacity.plan(args.candidates, commands_capacity._figures(args))
    values = merged(example)
    for name, service in plan["services"].items():
        maximum = values["services"][name]["autoscaling"]["maxReplicas"]
        assert maximum >= service["pods"], f"{example.name}: {name} maxReplicas {maximum} < {service['pods']} planned"
    partitions = values["kafka"]["topics"]["partitions"]
    for topic, count in plan["topics"].items():
        assert partitions.get(topic, count) >= count, f"{example.name}: {topic} has fewer partitions than planned"
        if count > 12:
            assert topic in partitions, f"{example.name}: {topic} needs {count} partitions"
