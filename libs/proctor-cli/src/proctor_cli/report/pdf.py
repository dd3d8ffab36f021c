"""Optional PDF copies of the report pages through headless Chromium (Debian's ``chromium``).
Skipped, with the reason, when Chromium is not installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(chromium: str, pages: list[Path], timeout_s: float = 90.0) -> list[Path]:
    """``<page>.pdf`` beside every page; raises ``RuntimeError`` with Chromium's output on a failure."""
    out: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="proctor-report-chromium-") as profile:
        for html in pages:
            pdf = html.with_suffix(".pdf")
            cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-pdf-header-footer", f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
                   html.resolve().as_uri()]
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"chromium did not print {html.name} within {timeout_s:.0f}s") from exc
            if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"chromium could not print {html.name} (exit {done.returncode}): "
                                   + " | ".join(tail))
            out.append(pdf)
    return out
