"""Shared by the browser tests: Debian's chromium for Playwright, and the dashboard served on a free port."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
APP_DIR = Path(__file__).resolve().parent.parent
HAVE_CHROMIUM = bool(shutil.which(CHROMIUM))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

if os.environ.get("CI") == "true" and not HAVE_CHROMIUM:
    raise RuntimeError(f"CI=true but {CHROMIUM} is missing: the browser tests must run in CI (.ci/run installs it).")

MARKS = [pytest.mark.e2e, pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian chromium not installed")]


@contextlib.contextmanager
def served(warehouse: Path, work: Path):
    """`python -m dashboard.serve` (as `make run`) on a free loopback port over a copy of `warehouse`."""
    db = work / "warehouse.duckdb"
    shutil.copyfile(warehouse, db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(work / "published" / "warehouse.duckdb")}
    for name in ("PEER_AS_OF", "PEER_ORIGINALS"):
        env.pop(name, None)
    with open(work / "streamlit.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--server.port", str(port),
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                                cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError((work / "streamlit.log").read_text()) from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)
