"""gradlab.data: the name list of lesson 20 ships in the package and loads without a network."""
import re
import socket
import zipfile
from pathlib import Path

import pytest

from gradlab.data import names

ROOT = Path(__file__).resolve().parent.parent


def test_names_are_distinct_lower_case_words_most_common_first():
    listed = names()
    assert len(listed) == 3802 == len(set(listed))
    assert all(re.fullmatch("[a-z]{2,}", name) for name in listed)
    assert listed[:3] == ["emma", "olivia", "ava"]  # SSA 2018: girls' names, then boys'
    assert listed[2000:2003] == ["liam", "william", "james"]  # noah is a girls' name too
    assert names() == listed and names() is not listed  # a fresh list each call


def test_names_load_with_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network in this test")
    monkeypatch.setattr(socket, "socket", refuse)
    assert len(names()) == 3802


def test_the_wheel_ships_the_names(tmp_path):
    pytest.importorskip("hatchling", reason="builds the wheel")
    from hatchling.builders.wheel import WheelBuilder
    [wheel] = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("gradlab/data/names.txt").decode("ascii").split()
    assert shipped == names()
