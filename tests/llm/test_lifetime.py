"""When the local model server ends itself: idle long enough and no process holding its users file."""

from __future__ import annotations

from pathlib import Path

from persona.llm.lifetime import Activity, Usage, Watchdog, hold_users_lock


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counters:
    """What the server's /metrics would say next; None while it cannot answer."""

    def __init__(self) -> None:
        self.usage: Usage | None = Usage(busy=False, decoded=0)

    def __call__(self) -> Usage | None:
        return self.usage


def test_activity_idles_from_the_last_time_the_server_was_seen_working() -> None:
    clock, counters = Clock(), Counters()
    activity = Activity(counters, clock)

    clock.now += 5
    assert activity.idle_for() == 5
    counters.usage = Usage(busy=True, decoded=3)  # a long streamed answer
    clock.now += 30
    assert activity.idle_for() == 0
    counters.usage = Usage(busy=False, decoded=9)  # it ended
    clock.now += 2
    assert activity.idle_for() == 0
    clock.now += 4
    assert activity.idle_for() == 4


def test_a_short_request_between_two_looks_counts_as_use() -> None:
    clock, counters = Clock(), Counters()
    activity = Activity(counters, clock)
    clock.now += 50
    assert activity.idle_for() == 50

    counters.usage = Usage(busy=False, decoded=1)  # answered entirely between the two reads
    clock.now += 10
    assert activity.idle_for() == 0


def test_a_server_that_cannot_say_counts_as_busy() -> None:
    clock, counters = Clock(), Counters()
    activity = Activity(counters, clock)
    counters.usage = None
    clock.now += 3600

    assert activity.idle_for() == 0


class Exits:
    def __init__(self) -> None:
        self.codes: list[int] = []

    def __call__(self, code: int) -> None:
        self.codes.append(code)


def watchdog(tmp_path: Path, clock: Clock, exits: Exits) -> Watchdog:
    return Watchdog(Activity(Counters(), clock), tmp_path / "server.users", idle_timeout=60, exit=exits)


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
