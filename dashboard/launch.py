"""``fer-dashboard``: start Streamlit on the app with the project's config (localhost, XSRF on, upload limit)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    os.chdir(root)  # Streamlit reads .streamlit/config.toml from the working directory
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", str(root / "dashboard" / "app.py"), *sys.argv[1:]]
    sys.exit(stcli.main())


if __name__ == "__main__":
    main()
