"""The README's two commands on any machine: `make lab` as root or not; browser tests with or
without chromium (skipped with a line saying how to enable them; under CI=true, failed)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lab_command(*runas):
    """The command `make lab` would run to start JupyterLab (make -n prints it)."""
    out = subprocess.run([*runas, "make", "-n", "-C", str(ROOT), "lab"], capture_output=True,
                         text=True, check=True).stdout
    return next(line for line in out.splitlines() if "jupyter lab" in line)


def test_make_lab_allows_root_only_as_root():
    assert ("--allow-root" in lab_command()) == (os.geteuid() == 0)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"),
                    reason="needs root to run make as another user")
def test_make_lab_as_a_normal_user_does_not_ask_for_root():
    assert "--allow-root" not in lab_command("runuser", "-u", "nobody", "--")


def browser_tests(ci: bool):
    """pytest on tests/browser as if chromium were not installed, with or without CI=true."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["GRADLAB_CHROMIUM"] = "/nonexistent/chromium"
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                           "tests/browser"], cwd=ROOT, capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_without_chromium_the_browser_tests_are_skipped_with_how_to_run_them():
    run = browser_tests(ci=False)
    assert run.returncode == 5, run.stdout  # pytest's "no tests ran": all of them were skipped
    lines = [line for line in run.stdout.splitlines() if "chromium" in line]
    assert len(lines) == 1 and lines[0].endswith(
        " browser tests skipped: no /nonexistent/chromium; to run them: sudo apt-get install "
        "chromium")


@pytest.mark.slow
def test_under_ci_a_missing_chromium_fails_the_browser_tests():
    run = browser_tests(ci=True)
    assert run.returncode != 0 and "skipped" not in run.stdout
    assert "CI=true and /nonexistent/chromium is missing" in run.stdout
