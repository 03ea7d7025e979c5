"""Fixtures for the browser tests: a JupyterLab server on localhost and Debian's chromium."""
import os

import pytest

from labserver import CHROMIUM, chromium, jupyterlab


IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(items):
    """Without chromium the browser tests are skipped, except under CI=true (see below)."""
    if os.path.exists(CHROMIUM) or IN_CI:
        return
    skip = pytest.mark.skip(reason=f"no {CHROMIUM}: to run the browser tests, "
                                   "sudo apt-get install chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_setup(item):
    """Under CI=true a missing browser fails the browser tests (before any server starts)."""
    if IN_CI and "browser" in item.keywords and not os.path.exists(CHROMIUM):
        pytest.fail(f"CI=true and {CHROMIUM} is missing: CI must run the browser tests "
                    "(make test installs chromium as root with apt)", pytrace=False)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab from this venv, shut down at the end of the session."""
    with jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as info:
        yield info


@pytest.fixture(scope="module")
def browser():
    """Module-scoped, because Playwright's sync API keeps an event loop running in this thread
    until it stops (later tests use asyncio)."""
    pytest.importorskip("playwright.sync_api")
    with chromium() as b:
        yield b
