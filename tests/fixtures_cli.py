"""The installed `masthead` command, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def process_media_dir(tmp_path_factory):
    """`masthead` processes the tests start keep their media (the demo's pictures among them) in a
    temporary folder unless a test names one, not in ./data/media of the checkout."""
    with pytest.MonkeyPatch.context() as patch:
        chosen = os.environ.get("MASTHEAD_MEDIA_DIR") or str(tmp_path_factory.mktemp("process-media"))
        patch.setenv("MASTHEAD_MEDIA_DIR", chosen)
        yield


def run_cli(*args: str, database_url: str, timeout: float = 300, check: bool = True, **env: str):
    """Run the installed `masthead` command against a database."""
    environ = {**os.environ, "MASTHEAD_DATABASE_URL": database_url, **env}
    masthead = Path(sys.executable).with_name("masthead")
    result = subprocess.run(
        [str(masthead), *args], env=environ, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert result.returncode == 0, f"masthead {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result
