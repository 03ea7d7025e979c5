"""Fixtures for the browser tests: a JupyterLab server on localhost and Debian's chromium."""
import os

import pytest

from labserver import CHROMIUM, chromium, jupyterlab


IN_CI = os.environ.get("CI", "").lower() == "true"
NOT_RUN = pytest.StashKey[int]()


def pytest_collection_modifyitems(config, items):
    """Without chromium the browser tests are not run, and the summary says how to run them in
    one line; under CI=true they fail instead (before any server starts)."""
    browser = [item for item in items if "browser" in item.keywords]
    if os.path.exists(CHROMIUM) or not browser:
        return
    if IN_CI:
        return
    items[:] = [item for item in items if "browser" not in item.keywords]
    config.hook.pytest_deselected(items=browser)
    config.stash[NOT_RUN] = len(browser)


def pytest_terminal_summary(terminalreporter, config):
    if config.stash.get(NOT_RUN, 0):
        terminalreporter.write_line(f"{config.stash[NOT_RUN]} browser tests skipped: no "
                                    f"{CHROMIUM}; to run them: sudo apt-get install chromium")


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
