"""One `finsam demo` run shared by the tests that inspect what it wrote: the tests of this folder,
which one xdist worker runs together (tests/conftest.py), so the demo is made once per suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--workdir", str(workdir)]) == 0
    return workdir
