"""Run media worker: settings -> logging -> serve until SIGTERM."""

from __future__ import annotations

from media_ingest.processing.app import build
from media_ingest.processing.config import WorkerSettings
from proctor_runtime.service import service_main


def main() -> None:
    service_main(WorkerSettings, build)


if __name__ == "__main__":
    main()
