"""Entry script of the frozen app (PyInstaller needs a file; installs use the `frontdesk` console script)."""

from desktop.app import main

if __name__ == "__main__":
    raise SystemExit(main())
