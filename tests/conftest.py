"""CI runs Hypothesis with a fixed seed, so a landing never depends on a lucky draw; local runs
explore new examples every time."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
