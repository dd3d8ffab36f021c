"""Golden renders of the example values: any change to what the chart produces for them shows up as a diff
to review. Regenerate after an intended change with helm/regenerate."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from helm_support import EXAMPLES, GOLDEN, REGENERATE_HINT, Render, regenerate


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_golden_render(render: Render, example: Path) -> None:
    assert EXAMPLES, "no example values under helm/examples"
    rendered = render(example)
    golden = GOLDEN / f"{example.stem}.yaml"
    if regenerate():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"{golden} is missing: run {REGENERATE_HINT}"
    diff = list(difflib.unified_diff(golden.read_text().splitlines(), rendered.splitlines(),
                                     str(golden), "helm template", lineterm="", n=2))
    assert diff == [], f"the render of {example.name} changed; review and run {REGENERATE_HINT}:\n" + \
        "\n".join(diff[:200])


def test_no_stale_golden_files() -> None:
    assert {p.stem for p in GOLDEN.glob("*.yaml")} == {p.stem for p in EXAMPLES}
