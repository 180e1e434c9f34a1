"""The console script is installed and answers."""

from __future__ import annotations

from conftest import Buttons


def test_create_press_history(bt: Buttons) -> None:
    bt.create("hello", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:required")
    r = bt("press", "hello", "--arg", "who=ada")
    assert r.returncode == 0
    assert r.data["stdout"] == "hi ada\n"
    runs = bt("history", "hello").data
    assert [x["stdout"] for x in runs] == ["hi ada\n"]
