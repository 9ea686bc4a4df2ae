"""Serve the dashboard: `streamlit run app.py` with shared links that work on a fresh server.

Streamlit assumes the legacy `pages/` auto-discovery until some session has run `st.navigation`, so
the very first visit to a deep link (say /agency?agency=AG0101) would run that page without app.py's
router and filters. app.py always routes with `st.navigation`; say so before the server starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def route_with_navigation() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def main() -> None:
    from streamlit.web import cli

    route_with_navigation()
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
