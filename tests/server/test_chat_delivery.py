"""The chat's REPLY_CHAT executor is on the gate while the server runs, and gone once it stops."""

from __future__ import annotations

from server_helpers import new_home, running_twin

from persona.events import ActionKind


def test_the_chat_executor_lives_as_long_as_the_server(tmp_path):
    with running_twin(new_home(tmp_path / "home")) as served:
        assert ActionKind.REPLY_CHAT in served.app.gate.executors
    assert ActionKind.REPLY_CHAT not in served.app.gate.executors
