"""A NUL byte in a name is refused and touches nothing.

argv cannot carry a NUL byte, so the CLI can never pass one; other surfaces (files, future REST
and MCP inputs) can, and they all go through the same service, tested here directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from buttons_engine.errors import ValidationError
from buttons_engine.services.buttons import CreateRequest, create, delete
from buttons_engine.store.layout import Layout


@pytest.mark.parametrize("name", ["a\x00b", "\x00", "ok\x00/../../etc"])
def test_nul_in_a_name_is_a_validation_error_and_writes_nothing(tmp_path: Path, name: str) -> None:
    home = tmp_path / "home"
    layout = Layout(str(home), str(home))
    with pytest.raises(ValidationError, match="NUL"):
        create(layout, CreateRequest(name, code="echo hi"))
    with pytest.raises(ValidationError):
        delete(layout, name)
    assert not home.exists() or not any((home / "buttons").iterdir())
