"""Serve the dashboard: `streamlit run app.py` with shared links that work on a fresh server.

Streamlit assumes the legacy `pages/` auto-discovery until some session has run `st.navigation`, so
the very first visit to a deep link (say /agency?agency=AG0101) would run that page without app.py's
router and filters. app.py always routes with `st.navigation`; say so before the server starts.

With PEER_DEMO_MODE=off and no [auth] section in any secrets file Streamlit would read (the usual
places, `--secrets.files PATH`, STREAMLIT_SECRETS_FILES), it refuses to start (exit code 2).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


def route_with_navigation() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def secrets_files(args: list[str]) -> list[Path]:
    """The secrets files named by `--secrets.files` (either form) and STREAMLIT_SECRETS_FILES (space-separated)."""
    named = [a.split("=", 1)[1] for a in args if a.startswith("--secrets.files=")]
    named += [b for a, b in zip(args, args[1:]) if a == "--secrets.files"]
    return [Path(p) for p in [*named, *os.environ.get("STREAMLIT_SECRETS_FILES", "").split()]]


def main() -> None:
    from dashboard.auth import REFUSAL, provider_on_disk
    from pipelines import settings

    args = sys.argv[1:]
    if not settings.demo_mode() and not provider_on_disk(ROOT, secrets_files(args)):
        print(REFUSAL, file=sys.stderr)
        sys.exit(2)
    from streamlit.web import cli

    route_with_navigation()
    sys.argv = ["streamlit", "run", str(APP), *args]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
