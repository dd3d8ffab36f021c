"""Hypothesis settings of the campaign: deterministic (CI), no deadline, sized by PROCTOR_FUZZ_EXAMPLES."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("PROCTOR_FUZZ_EXAMPLES", "80"))


def campaign(scale: float = 1.0) -> settings:
    return settings(max_examples=max(1, int(EXAMPLES * scale)), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)
