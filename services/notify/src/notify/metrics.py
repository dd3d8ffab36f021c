"""notify's own metrics (the shared gRPC/Kafka ones come from proctor_runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

FEED_APPENDED = Counter(
    "notify_feed_items_appended_total", "Items persisted into a sitting's proctor feed, by kind", ["kind"])
FEED_DELIVERED = Counter(
    "notify_feed_items_delivered_total", "Feed items sent on proctor streams, by kind", ["kind"])
INCIDENT_DELIVERY_SECONDS = Histogram(
    "notify_incident_delivery_seconds",
    "Incident event produced on Kafka -> delivered on a proctor stream", buckets=DELIVERY_BUCKETS)
INCIDENT_DETECTION_TO_DELIVERY_SECONDS = Histogram(
    "notify_incident_detection_to_delivery_seconds",
    "Incident detected_at (producer's decision) -> delivered on a proctor stream", buckets=DELIVERY_BUCKETS)
SUBSCRIBERS = Gauge(
    "notify_subscribers", "Open streams, by kind (proctor, candidate)", ["kind"])
DISCONNECTS = Counter(
    "notify_subscriber_disconnects_total",
    "Streams ended, by kind and reason (client_gone, too_slow, shutdown, error)", ["kind", "reason"])
INCIDENTS_APPLIED = Counter(
    "notify_incident_events_total",
    "Incident events consumed, by outcome (applied, duplicate, invalid; room_filled: an incident given its room late)",
    ["outcome"])
INCIDENT_ACTIONS = Counter(
    "notify_incident_actions_total", "Proctor handling actions, by action", ["action"])
NOTICES_SENT = Counter(
    "notify_candidate_notices_total", "Notices persisted for candidates, by kind", ["kind"])
HELP_MESSAGES = Counter(
    "notify_help_messages_total", "Help chat messages stored, by direction", ["direction"])
CONSOLE_REQUESTS = Counter(
    "notify_console_http_requests_total", "Console HTTP requests, by route and status", ["route", "status"])
