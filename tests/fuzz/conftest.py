"""The bad-input campaign: fixtures and the report (``.state/reports/fuzz.json``).

``PROCTOR_FUZZ_EXAMPLES`` (default 80) sets hypothesis' examples per method and kind of input; the
default keeps the whole campaign within a few minutes, a bigger number runs a longer campaign.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_check import TALLY
from fuzz_settings import EXAMPLES

from proctor_runtime.devinfra import repo_root

REPORT = repo_root() / ".state" / "reports" / "fuzz.json"


def pytest_sessionfinish(session, exitstatus):
    if TALLY.total():
        TALLY.write(REPORT, EXAMPLES)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if TALLY.total():
        terminalreporter.write_line(f"{TALLY.summary()} -> {REPORT}")
