"""Every metric an alert or a dashboard uses is exported by the services: the names are read from the
Prometheus registry after importing the shared ``proctor_runtime.metrics`` and every service's ``metrics.py``
(found on disk, so a new service is included), expanded the way the exposition format names the series
(counter ``_total``, histogram ``_bucket``/``_sum``/``_count``), and compared with every name in the rendered
PrometheusRule and the dashboards' queries and variables."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

from helm_support import CHART, ROOT, Render, by_kind
from prometheus_client import REGISTRY

# Series the chart uses that the services cannot export: kube-state-metrics' view of the pods.
EXTERNAL = {
    "kube_pod_container_status_restarts_total": "kube-state-metrics (crash-looping pods)",
    "kube_pod_container_status_waiting_reason": "kube-state-metrics (CrashLoopBackOff)",
}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
            "summary": ("", "_sum", "_count", "_created"), "gauge": ("",), "info": ("_info",),
            "stateset": ("",), "gaugehistogram": ("_bucket", "_gsum", "_gcount"), "unknown": ("",)}
KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
            "offset", "inf", "nan"}


def metric_modules() -> list[str]:
    names = ["proctor_runtime.metrics"]
    for path in sorted((ROOT / "services").glob("*/src/**/metrics.py")):
        src = next(p for p in path.parents if p.name == "src")
        names.append(".".join(path.relative_to(src).with_suffix("").parts))
    return names


def exported_series() -> set[str]:
    for module in metric_modules():
        importlib.import_module(module)
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, keywords, labels or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)            # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)           # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    text = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][+-]?\d+)?", " ", text)  # numbers
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end():].lstrip()
        if match.group(0).lower() not in KEYWORDS and not rest.startswith("("):
            names.add(match.group(0))
    return names


def used_expressions(manifest: str) -> list[tuple[str, str]]:
    out = []
    (rule,) = by_kind(manifest, "PrometheusRule")
    for group in rule["spec"]["groups"]:
        for item in group["rules"]:
            out.append((f"alert {item['alert']}", item["expr"]))
    for path in sorted((CHART / "dashboards").glob("*.json")):
        board: dict[str, Any] = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                out.append((f"{path.name} panel {panel['id']}", target["expr"]))
        for var in board["templating"]["list"]:
            if var["type"] == "query":  # label_values(<selector>, <label>): the selector names the metric
                selector = re.fullmatch(r"label_values\((.+),\s*\w+\)", var["query"]["query"])
                assert selector, f"{path.name} variable {var['name']}: not label_values(<selector>, <label>)"
                out.append((f"{path.name} variable {var['name']}", selector.group(1)))
    return out


def test_extraction_finds_metrics_and_nothing_else() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, service) (rate(proctor_x_seconds_bucket{code!~"OK|x"}[5m]))) '
            '> 1e3 and on(service) up offset 5m unless proctor_y_total{service="a b"}')
    assert metric_names(expr) == {"proctor_x_seconds_bucket", "up", "proctor_y_total"}
    assert metric_names("sum(a) / clamp_min(sum(b:rate5m), 1)") == {"a", "b:rate5m"}


def test_the_registries_hold_every_service() -> None:
    modules = metric_modules()
    assert {"exam_session.metrics", "auth_face.metrics", "media_ingest.metrics", "media_ingest.processing.metrics",
            "anomaly.metrics", "notify.metrics"} <= set(modules)
    series = exported_series()
    assert {"proctor_grpc_server_handling_seconds_bucket", "proctor_auth_logins_total",
            "notify_incident_detection_to_delivery_seconds_count"} <= series


def test_every_metric_used_by_alerts_and_dashboards_is_exported(render: Render) -> None:
    series = exported_series()
    missing: dict[str, set[str]] = {}
    used_external: set[str] = set()
    for where, expr in used_expressions(render()):
        names = metric_names(expr)
        assert names, f"{where}: no metric found in {expr!r}"
        used_external |= names & set(EXTERNAL)
        unknown = names - series - set(EXTERNAL)
        if unknown:
            missing[where] = unknown
    assert missing == {}, f"not exported by any service: {missing}"
    assert used_external == set(EXTERNAL), "drop unused entries from EXTERNAL"


def test_a_misspelt_metric_would_be_caught() -> None:
    series = exported_series()
    assert metric_names("rate(proctor_auth_login_total[5m])") - series == {"proctor_auth_login_total"}
    assert metric_names("proctor_grpc_server_handling_seconds") - series == {"proctor_grpc_server_handling_seconds"}
