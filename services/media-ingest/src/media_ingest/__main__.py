"""Run media-ingest: settings -> logging -> serve until SIGTERM."""

from __future__ import annotations

from media_ingest.app import build
from media_ingest.config import Settings
from proctor_runtime.service import service_main


def main() -> None:
    service_main(Settings, build)


if __name__ == "__main__":
    main()
