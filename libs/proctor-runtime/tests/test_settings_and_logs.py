import json
import logging
import sys

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from proctor_runtime.context import set_request_id
from proctor_runtime.logs import JsonFormatter
from proctor_runtime.settings import BaseServiceSettings


class DemoSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_SVC_", frozen=True)
    template_key: SecretStr = SecretStr("")


def test_settings_read_env_with_prefix_and_mask_secrets(monkeypatch):
    monkeypatch.setenv("DEMO_SVC_GRPC_PORT", "5050")
    monkeypatch.setenv("DEMO_SVC_DATABASE_URL", "postgresql://u:hunter2@db/x")
    monkeypatch.setenv("DEMO_SVC_TEMPLATE_KEY", "very-secret")
    settings = DemoSettings()
    assert settings.grpc_port == 5050
    masked = settings.masked()
    assert masked["database_url"] == "***" and masked["template_key"] == "***"
    assert "hunter2" not in json.dumps(masked) and "very-secret" not in json.dumps(masked)
    assert masked["grpc_port"] == 5050


def test_settings_are_frozen():
    settings = DemoSettings()
    try:
        settings.grpc_port = 1  # type: ignore[misc]
    except Exception as exc:  # noqa: BLE001
        assert "frozen" in str(exc).lower()
    else:
        raise AssertionError("settings must be immutable")


def test_json_formatter_emits_one_object_with_extras_and_exception():
    formatter = JsonFormatter("svc")
    set_request_id("req-42")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("op",), exc_info=sys.exc_info(),
            extra={"candidate_id": "c-1"})
    entry = json.loads(formatter.format(record))
    assert entry["msg"] == "failed op" and entry["level"] == "error"
    assert entry["service"] == "svc" and entry["candidate_id"] == "c-1"
    assert entry["request_id"] == "req-42"
    assert "ValueError: boom" in entry["exc"]
    set_request_id("")
