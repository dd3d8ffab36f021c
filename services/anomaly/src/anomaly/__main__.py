"""Run anomaly: settings -> logging -> serve until SIGTERM."""

from __future__ import annotations

from anomaly.app import build
from anomaly.config import Settings
from proctor_runtime.service import service_main


def main() -> None:
    service_main(Settings, build)


if __name__ == "__main__":
    main()
