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
def served(warehouse: Path, work: Path, secrets: Path | None = None):
    """`python -m dashboard.serve` (as `make run`) on a free loopback port over a copy of `warehouse`.

    With `secrets` (a secrets.toml, e.g. with an [auth] section), Streamlit reads that file only
    (`--secrets.files`), and PEER_DEMO_MODE=off: without the [auth] it names, the app would not start.
    The audit log is work/warehouse.audit.duckdb (beside the warehouse copy); read it after the block ends.
    """
    db = work / "warehouse.duckdb"
    shutil.copyfile(warehouse, db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(work / "published" / "warehouse.duckdb")}
    for name in ("PEER_AS_OF", "PEER_ORIGINALS", "PEER_AUDIT", "STREAMLIT_SECRETS_FILES"):
        env.pop(name, None)
    extra = []
    if secrets is not None:
        env["PEER_DEMO_MODE"] = "off"
        extra = ["--secrets.files", str(secrets)]
    with open(work / "streamlit.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--server.port", str(port),
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra],
                                cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        raise RuntimeError((work / "streamlit.log").read_text()) from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def settled(page) -> None:
    """Wait until the script run a click started has finished (Streamlit's status widget goes away)."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


def until(page, act, effect, tries: int = 4) -> None:
    """Do `act` until `effect` (a wait that raises on timeout) sees its result, as a user clicks again.

    A click can land on an element that a rerun is about to replace; the user sees nothing happen
    and clicks again. The last try's timeout is raised.
    """
    from playwright.sync_api import TimeoutError as Timeout

    for attempt in range(tries):
        settled(page)
        act()
        try:
            effect()
            return
        except Timeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")


def choose(page, label: str, typed: str | None = None, within=None) -> None:
    """Pick an option of a select box: the one starting with `typed` (typed, as a user does), else the first."""
    import re

    from playwright.sync_api import expect

    box = (within or page).get_by_role("combobox", name=label, exact=True)
    option = page.get_by_role("option", name=re.compile("^" + re.escape(typed))) if typed else page.get_by_role(
        "option")

    def open_list():
        box.click()
        if typed:
            box.press_sequentially(typed)

    until(page, open_list, lambda: option.first.wait_for(timeout=10_000))
    option.first.click()
    if typed:
        expect(box).to_have_value(re.compile("^" + re.escape(typed)))
    settled(page)
