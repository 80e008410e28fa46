"""Finding the external programs some tests need: skip with a reason locally, fail in CI."""

from __future__ import annotations

import glob
import os
import shutil

import pytest


def in_ci() -> bool:
    """Whether this run is CI, where every test must run rather than skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_program(name: str, why: str, *, also_in: str = "") -> str:
    """Path of ``name`` (on PATH or in the glob ``also_in``); skips with a clear reason when missing, fails in CI."""
    path = shutil.which(name)
    if path is not None:
        return path
    if also_in:
        # Debian keeps some server programs off PATH, e.g. /usr/lib/postgresql/15/bin/initdb.
        found = sorted(glob.glob(os.path.join(also_in, name)), reverse=True)
        if found:
            return found[0]
    message = f"{name} is not installed ({why}); install it (scripts/system-deps does on Debian) to run this test"
    if in_ci():
        pytest.fail(f"CI must run every test: {message}")
    pytest.skip(message)
