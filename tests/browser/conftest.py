"""Fixtures for the browser tests: a JupyterLab server on localhost and Debian's chromium."""
import os

import pytest

from labserver import CHROMIUM, chromium, jupyterlab


def pytest_collection_modifyitems(items):
    """Without chromium the browser tests are skipped, except under CI=true: there they fail."""
    if os.path.exists(CHROMIUM):
        return
    reason = f"no {CHROMIUM}: to run the browser tests, sudo apt-get install chromium"
    mark = pytest.mark.skip(reason=reason)
    if os.environ.get("CI", "").lower() == "true":
        mark = pytest.mark.usefixtures("_no_browser_in_ci")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(mark)


@pytest.fixture
def _no_browser_in_ci():
    pytest.fail(f"CI=true and {CHROMIUM} is missing: CI must run the browser tests "
                "(make test installs chromium as root with apt)")


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
