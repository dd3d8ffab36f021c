"""Metrics every service exports, and the metrics HTTP endpoint.

Names are snake_case with unit suffixes. Service-specific metrics live in each service's
own ``metrics.py``; these are the shared ones the dashboards and alerts rely on.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

GRPC_HANDLED = Counter(
    "proctor_grpc_server_handled_total", "RPCs completed, by method and status code",
    ["service", "method", "code"])
GRPC_SECONDS = Histogram(
    "proctor_grpc_server_handling_seconds", "Time to complete an RPC",
    ["service", "method"], buckets=LATENCY_BUCKETS)
GRPC_IN_FLIGHT = Gauge(
    "proctor_grpc_server_in_flight", "RPCs being handled now", ["service"])

KAFKA_CONSUMED = Counter(
    "proctor_kafka_consumer_messages_total",
    "Messages handled by a consumer, by outcome (ok, retried, dead_lettered)",
    ["service", "topic", "outcome"])
KAFKA_HANDLE_SECONDS = Histogram(
    "proctor_kafka_consumer_handling_seconds", "Time a handler took for one message",
    ["service", "topic"], buckets=LATENCY_BUCKETS)
KAFKA_LAG = Gauge(
    "proctor_kafka_consumer_lag_messages", "Messages behind the partition end (from client stats)",
    ["service", "topic", "partition"])
KAFKA_PRODUCED = Counter(
    "proctor_kafka_producer_messages_total", "Messages produced, by delivery outcome",
    ["service", "topic", "outcome"])
KAFKA_REBALANCES = Counter(
    "proctor_kafka_consumer_rebalances_total", "Partition assignments and revocations",
    ["service", "kind"])

SERVICE_READY = Gauge(
    "proctor_service_ready", "1 when the service reports SERVING on its health check", ["service"])


def start_metrics_server(host: str, port: int) -> WSGIServer:
    """Serve /metrics in a thread; ``server.server_port`` is the bound port (0 picks a free one)."""
    server, _thread = start_http_server(port, addr=host)
    return server
