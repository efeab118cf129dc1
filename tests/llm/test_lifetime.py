"""When the local model server ends itself: idle long enough and no process holding its users file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from persona.llm.lifetime import Activity, Watchdog, hold_users_lock


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_activity_counts_a_request_in_flight_as_busy_and_idles_from_its_end() -> None:
    clock = Clock()
    seen: list[float] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        clock.now += 30  # a long streamed answer
        seen.append(activity.idle_for())

    activity = Activity(app, clock)
    asyncio.run(activity({"type": "http"}, None, None))
    clock.now += 5

    assert seen == [0.0]
    assert activity.in_flight == 0
    assert activity.idle_for() == 5


class Exits:
    def __init__(self) -> None:
        self.codes: list[int] = []

    def __call__(self, code: int) -> None:
        self.codes.append(code)


def watchdog(tmp_path: Path, clock: Clock, exits: Exits) -> Watchdog:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        pass

    return Watchdog(Activity(app, clock), tmp_path / "server.users", idle_timeout=60, exit=exits)


def test_an_unused_server_exits_once_idle_for_the_timeout(tmp_path: Path) -> None:
    clock, exits = Clock(), Exits()
    dog = watchdog(tmp_path, clock, exits)

    clock.now += 59
    assert not dog.check()
    clock.now += 1
    assert dog.check()
    assert exits.codes == [0]


def test_a_process_holding_the_users_file_keeps_an_idle_server_up(tmp_path: Path) -> None:
    clock, exits = Clock(), Exits()
    dog = watchdog(tmp_path, clock, exits)
    user = hold_users_lock(tmp_path / "server.users")
    clock.now += 3600

    assert not dog.check()
    user.close()  # the user exits (the kernel drops its lock however it ends)
    assert dog.check()
    assert exits.codes == [0]
