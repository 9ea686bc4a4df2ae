"""Real browser: `streamlit run` on a loopback port, Debian's chromium driven by Playwright."""

from __future__ import annotations

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

if os.environ.get("CI") == "true" and not HAVE_CHROMIUM:
    raise RuntimeError(f"CI=true but {CHROMIUM} is missing: the browser tests must run in CI (.ci/run installs it).")

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian chromium not installed")]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": [
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(demo_warehouse, tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    db = work / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, db)
    port = _free_port()
    log = open(work / "streamlit.log", "w")
    env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(work / "published" / "warehouse.duckdb")}
    env.pop("PEER_AS_OF", None)
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        raise RuntimeError((work / "streamlit.log").read_text())
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def _wait_rendered(page, heading: str) -> None:
    from playwright.sync_api import expect

    page.wait_for_selector('[data-testid="stApp"]')
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


def test_every_page_renders_with_charts(page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url)
    _wait_rendered(page, "Peer workforce integration: state overview")
    expect(page.locator('[data-testid="stVegaLiteChart"] svg').first).to_be_visible(timeout=30_000)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 2
    assert page.locator('[data-testid="stMetric"]').count() == 7
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_role("link").count() == 2
    nav.get_by_role("link", name="Metric definitions").click()
    _wait_rendered(page, "Metric definitions")
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(tmp_path / "definitions.png"), full_page=True)
