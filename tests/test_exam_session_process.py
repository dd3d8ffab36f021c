"""exam-session as the operator runs it: its own process (``python -m exam_session``) configured from
the environment, driven by the ``proctor`` CLI, stopped with SIGTERM."""

import json
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from proctor_cli.local import LocalStack

pytestmark = pytest.mark.infra


def cli(*args: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "proctor_cli.main", *args], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, "one JSON object on stdout"
    return json.loads(lines[0])


@pytest.fixture
async def stack(kafka_broker, postgres, monkeypatch, tmp_path):
    base = str(random.randrange(20000, 32000, 200))  # below the ephemeral port range
    monkeypatch.setenv("PROCTOR_SERVICE_PORT_BASE", base)
    s = LocalStack(databases={"exam-session": f"proctor_test_{base}"}, log_dir=tmp_path / "logs")
    await s.start("exam-session")
    env = dict(os.environ)
    yield s, env
    await s.stop()
    postgres.psql(f'DROP DATABASE IF EXISTS "proctor_test_{base}" WITH (FORCE)')


async def test_create_a_sitting_and_import_candidates_with_the_cli(stack, tmp_path: Path):
    _, env = stack
    spec = tmp_path / "sitting.yaml"
    start = datetime.now(UTC) + timedelta(hours=1)
    spec.write_text(yaml.safe_dump({
        "sitting_id": "cli-s1", "name": "CLI sitting", "timeline": {"start": start.isoformat(), "duration": "90m"},
        "questions": [{"id": f"q{i}", "type": "single_choice", "options": ["A", "B"]} for i in range(3)]}))
    created = cli("sitting", "create", str(spec), "--json", env=env)
    assert created["sitting_id"] == "cli-s1" and created["question_count"] == 3
    csv_path = tmp_path / "candidates.csv"
    rows = ["candidate_id,name,id_photo,sitting_id,room_id"]
    rows += [f"c{i},考生{i},photos/c{i}.jpg,cli-s1,room-{i % 3}" for i in range(250)]
    rows += ["c999,,photos/x.jpg,cli-s1,room-1", "c998,x,p,no-such-sitting,room-1", "c997,broken"]
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = tmp_path / "rejected.csv"
    first = cli("import-candidates", str(csv_path), "--batch", "100", "--report", str(report), "--json", env=env)
    assert (first["created"], first["rejected"]) == (250, 3)
    assert [r["line"] for r in first["rejections"]] == [252, 253, 254]
    assert report.read_text().count("\n") == 4
    again = cli("import-candidates", str(csv_path), "--json", env=env)
    assert (again["created"], again["unchanged"]) == (0, 250), "re-import is idempotent"
    token = cli("token", "issue", "--role", "proctor", "--sub", "p1", "--sitting", "cli-s1", "--rooms", "room-1",
                "--json", env=env)
    assert token["rooms"] == ["room-1"] and token["token"].startswith("pt1.")


async def test_sigterm_stops_the_service_gracefully(stack):
    s, _ = stack
    service = s.services["exam-session"]
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=30) == 0
    log = service.log_file.read_text()
    assert '"msg": "shutting down"' in log and '"msg": "stopped"' in log
    startup = next(json.loads(line) for line in log.splitlines() if '"msg": "starting"' in line)
    assert startup["config"]["database_url"] == "***" and startup["config"]["token_signing_key"] == "***"
