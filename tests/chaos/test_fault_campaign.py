"""The fault campaign, short version (``scripts/chaos`` runs the full one): a 4-candidate sitting during
which a candidate's network is cut mid-upload, every service is killed with SIGKILL and restarted, the
Kafka broker is killed and restarted and PostgreSQL crashes and restarts. Every check must hold: no
acknowledged media byte lost, every incident delivered exactly once, every acknowledged answer present,
consistent states. This test restarts the shared Kafka and PostgreSQL: it leaves them running."""

from __future__ import annotations

import random

import pytest

from proctor_cli.simulate import SimConfig, faults, simulate
from proctor_runtime import topics
from proctor_runtime.devinfra import KafkaBroker, PostgresCluster


def test_fault_names_parse():
    assert faults.parse("all") == faults.ALL and len(faults.ALL) == 9
    assert faults.parse("kafka, kill:notify") == ["kafka", "kill:notify"]
    with pytest.raises(ValueError, match="unknown fault"):
        faults.parse("kill:everything")
    with pytest.raises(ValueError):
        faults.parse(" , ")


@pytest.mark.infra
@pytest.mark.timeout(600)
async def test_every_fault_during_a_sitting_loses_nothing(kafka_broker, postgres, monkeypatch):
    monkeypatch.setenv("PROCTOR_SERVICE_PORT_BASE", str(random.randrange(23000, 26000, 200)))
    topics.ensure_topics(kafka_broker.settings.kafka_bootstrap, topics.new_topics())
    campaign = faults.FaultCampaign(faults.parse("all"), down_s=1.5)
    try:
        r = await simulate(SimConfig(candidates=4, cheaters=2, speed=60, seed=5, questions=6), hooks=campaign.hooks())
    finally:
        # whatever happened, the shared infrastructure is left running for the tests after this one
        KafkaBroker(kafka_broker.settings).start()
        PostgresCluster(postgres.settings).start()
    report = r["faults"]
    injected = {f["name"]: f for f in report["injected"]}
    assert list(injected) == faults.ALL
    assert all(f["recovered_s"] is not None for f in injected.values()), injected
    cut = injected["cut-upload"]["detail"]
    assert cut["cut"] and 0 < cut["forwarded_of_write"] < cut["write_bytes"], cut
    failed = {name: check for name, check in report["checks"].items() if not check["ok"]}
    assert not failed, failed
    assert report["ok"]
    # the checks had something to check
    assert r["media_bytes_acknowledged"] > 0 and r["answers_acknowledged"] == 4 * 6
    assert report["checks"]["every_recorded_segment_stored"]["recorded"] > 0
    assert r["states"] == {"UPLOADED": 4}
    assert "fault campaign:" in r["text"]
