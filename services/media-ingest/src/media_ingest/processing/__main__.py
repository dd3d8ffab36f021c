"""Run the media worker: settings -> logging -> serve until SIGTERM (``python -m media_ingest.processing``)."""

from __future__ import annotations

import logging

from media_ingest.processing.app import build
from media_ingest.processing.config import WorkerSettings
from proctor_runtime.logs import configure_logging
from proctor_runtime.service import run_service


def main() -> None:
    settings = WorkerSettings()
    configure_logging(settings.service_name, settings.log_level)
    logging.getLogger(__name__).info("starting", extra={"config": settings.masked()})
    run_service(lambda: build(settings))


if __name__ == "__main__":
    main()
