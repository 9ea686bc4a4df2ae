"""`python -m dashboard.serve` refuses to start with demo mode off and no sign-in configured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.auth import REFUSAL
from tests.browser import APP_DIR

AUTH = """[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret-of-enough-length"
client_id = "peer-dashboard-test"
client_secret = "test-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {**os.environ, "PEER_DB": str(tmp_path / "warehouse.duckdb"), "PEER_DEMO_MODE": "off",
           "PEER_SNAPSHOT": str(tmp_path / "published" / "warehouse.duckdb"), **extra}
    for name in ("PEER_AUDIT", "STREAMLIT_SECRETS_FILES"):
        if name not in extra:
            env.pop(name, None)
    return env


def _serve(tmp_path, *args: str, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none", *args],
                            cwd=tmp_path, env=_env(tmp_path, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(any(p.exists() for p in (APP_DIR / ".streamlit/secrets.toml",
                                              Path.home() / ".streamlit/secrets.toml")),
                    reason="a real secrets.toml is configured on this machine")
def test_demo_mode_off_without_sign_in_refuses_to_start(tmp_path):
    (tmp_path / "no-auth.toml").write_text('[other]\nkey = "value"\n')
    for args in ((), ("--secrets.files", str(tmp_path / "no-auth.toml"))):
        proc = _serve(tmp_path, *args, "--server.port", "9")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, err
        assert REFUSAL in err


@pytest.mark.parametrize("how", ["flag", "flag=", "env"])
def test_demo_mode_off_with_sign_in_configured_starts(tmp_path, how):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(AUTH)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = {"flag": ["--secrets.files", str(secrets)], "flag=": [f"--secrets.files={secrets}"], "env": []}[how]
    env = {"STREAMLIT_SECRETS_FILES": str(secrets)} if how == "env" else {}
    proc = _serve(tmp_path, *args, "--server.port", str(port), **env)
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                assert time.time() < deadline, "the server did not answer /_stcore/health"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
