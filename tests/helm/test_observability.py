"""Alerts and dashboards, offline: `promtool check rules` on the rendered PrometheusRule and on every dashboard
query (Grafana variables substituted, written as recording rules), and the dashboards' JSON sanity."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_support import CHART, VALUE_SETS, Render, by_kind

DASHBOARDS = sorted((CHART / "dashboards").glob("*.json"))
# what the issue asks the alerts to cover: alert name -> what it watches
REQUIRED_ALERTS = {
    "ProctorFaceLoginFailureRateHigh": "face-login failure rate",
    "ProctorIncidentDeliveryLatencyHigh": "incident pipeline latency",
    "ProctorConsumerLagGrowing": "consumer lag growing",
    "ProctorUploadFailuresHigh": "upload failures",
    "ProctorStorageErrors": "storage errors",
    "ProctorPodCrashLooping": "crash-looping pods",
}
# the dashboards the issue asks for: uid -> words its title must contain
REQUIRED_DASHBOARDS = {
    "proctor-sitting-overview": "Sitting overview",
    "proctor-service-red": "rate, errors, duration",
    "proctor-kafka-lag": "Kafka",
    "proctor-model-inference": "Model inference",
}
# Grafana's built-in variables and a value of the right shape for each
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "30s", "__range": "1h"}


def rules_of(manifest: str) -> dict[str, Any]:
    (rule,) = by_kind(manifest, "PrometheusRule")
    spec: dict[str, Any] = rule["spec"]
    return spec


def promtool_check(promtool: Path, rules: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(yaml.safe_dump(rules, sort_keys=False, width=200))
    return subprocess.run([str(promtool), "check", "rules", str(path)], capture_output=True, text=True,
                          check=False, timeout=60)


@pytest.mark.parametrize("values", [v for _, v in VALUE_SETS], ids=[n for n, _ in VALUE_SETS])
def test_alert_rules_pass_promtool(render: Render, promtool: Path, values: tuple[Path, ...], tmp_path: Path) -> None:
    rules = rules_of(render(*values))
    names = [r["alert"] for g in rules["groups"] for r in g["rules"]]
    assert set(REQUIRED_ALERTS) <= set(names)
    assert len(names) == len(set(names))
    result = promtool_check(promtool, rules, tmp_path / "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(names)} rules found" in result.stdout


def test_promtool_catches_a_broken_expression(render: Render, promtool: Path, tmp_path: Path) -> None:
    """The check above can fail: a rule with a syntax error is refused."""
    rules = rules_of(render())
    rules["groups"][0]["rules"][0]["expr"] = "sum(rate(proctor_auth_logins_total[5m])"
    assert promtool_check(promtool, rules, tmp_path / "broken.yaml").returncode != 0


def test_alert_thresholds_come_from_values(render: Render) -> None:
    rules = rules_of(render(sets=("prometheusRule.thresholds.uploadFailureRatio=0.125",)))
    upload = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "ProctorUploadFailuresHigh")
    assert upload["expr"].rstrip().endswith("> 0.125")


def load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text())
    return board


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Grafana's variables with a value of the right shape: the built-ins by kind, a template variable by a
    regex-safe value (the dashboards use them in =~ matchers)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in GRAFANA_BUILTINS:
            return GRAFANA_BUILTINS[name]
        assert name in variables, f"undefined variable ${name} in {expr}"
        return variables[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expr)


def queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    variables = {v["name"]: ".*" for v in board["templating"]["list"] if v["type"] != "datasource"}
    out = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            out.append((f"{board['uid']} panel {panel['id']} {target['refId']}", substitute(target["expr"], variables)))
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            match = re.fullmatch(r"label_values\((.+),\s*\w+\)", var["query"]["query"])
            assert match, f"variable {var['name']}: only label_values(<selector>, <label>) is used"
            out.append((f"{board['uid']} variable {var['name']}", match.group(1)))
    return out


def test_every_dashboard_query_passes_promtool(promtool: Path, tmp_path: Path) -> None:
    rules = []
    for path in DASHBOARDS:
        for i, (where, expr) in enumerate(queries(load(path))):
            rules.append({"record": f"dashboard:{path.stem.replace('-', '_')}:{i}", "expr": expr,
                          "labels": {"where": where}})
    assert len(rules) >= 40
    result = promtool_check(promtool, {"groups": [{"name": "dashboards", "rules": rules}]}, tmp_path / "q.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_substitution_leaves_no_variable() -> None:
    expr = 'sum(rate(x{a=~"$service", b="${sitting}"}[$__rate_interval]))'
    assert substitute(expr, {"service": ".*", "sitting": ".*"}) == 'sum(rate(x{a=~".*", b=".*"}[1m]))'
    with pytest.raises(AssertionError, match="undefined variable"):
        substitute("up{a=~\"$nope\"}", {})


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboard_sanity(path: Path) -> None:
    board = load(path)
    assert board["uid"] and len(board["uid"]) <= 40 and board["title"]
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    variables = board["templating"]["list"]
    (datasource,) = [v for v in variables if v["type"] == "datasource"]
    assert datasource["name"] == "datasource" and datasource["query"] == "prometheus"
    ref = {"type": "prometheus", "uid": "${datasource}"}
    for var in variables:
        if var["type"] == "query":
            assert var["datasource"] == ref
    for panel in panels(board):
        assert panel["title"], f"panel {panel['id']} of {path.name} has no title"
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == ref, f"panel {panel['id']} of {path.name}"
        assert panel["targets"], f"panel {panel['id']} of {path.name} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == ref and target["expr"].strip()
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24


def test_the_dashboards_the_sre_asked_for_ship_as_sidecar_config_maps(render: Render) -> None:
    boards = {load(p)["uid"]: load(p) for p in DASHBOARDS}
    for uid, words in REQUIRED_DASHBOARDS.items():
        assert words in boards[uid]["title"]
    maps = by_kind(render(), "ConfigMap")
    shipped = {}
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        for name, text in config_map["data"].items():
            shipped[name] = json.loads(text)
    assert {f"{p.name}" for p in DASHBOARDS} == set(shipped)
    assert {b["uid"] for b in shipped.values()} == set(REQUIRED_DASHBOARDS)
    overview = json.dumps(boards["proctor-sitting-overview"])
    for metric in ("proctor_exam_candidates", "proctor_auth_logins_total", "proctor_anomaly_incidents_total",
                   "proctor_media_ingest_candidates_complete_total"):
        assert metric in overview  # candidates by state, logins/s, incidents/s by kind, upload completion


def test_alert_texts_carry_the_thresholds(render: Render) -> None:
    rules = rules_of(render())
    login = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "ProctorFaceLoginFailureRateHigh")
    assert login["annotations"]["description"].startswith("More than 20% of face logins failed")
    templated = [r["annotations"]["summary"] for g in rules["groups"] for r in g["rules"]
                 if "{{ $" in r["annotations"]["summary"]]
    assert len(templated) >= 10  # Prometheus' own templates survive helm's tpl ...
    assert not any("`" in text for text in templated)  # ... without the escaping left in
