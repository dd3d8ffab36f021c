"""Run anomaly: settings -> logging -> consume until SIGTERM."""

from __future__ import annotations

import logging

from anomaly.app import build
from anomaly.config import Settings
from proctor_runtime.logs import configure_logging
from proctor_runtime.service import run_service


def main() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    logging.getLogger(__name__).info("starting", extra={"config": settings.masked()})
    run_service(lambda: build(settings))


if __name__ == "__main__":
    main()
