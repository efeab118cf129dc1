"""The kept-open SQLite connections: reused, never shared by nested users, never pointed at a replaced file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from persona.db import connect, create

SCHEMA = "CREATE TABLE IF NOT EXISTS t (v INTEGER);"


def test_a_thread_reuses_its_connection_and_another_thread_gets_its_own(tmp_path: Path):
    path = tmp_path / "state.db"
    create(path, SCHEMA)
    with connect(path) as first:
        pass
    with connect(path) as again:
        assert again is first
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(connect(path).__enter__()))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_a_nested_user_gets_a_separate_connection_and_sees_only_committed_rows(tmp_path: Path):
    path = tmp_path / "state.db"
    create(path, SCHEMA)
    with connect(path) as outer:
        outer.execute("BEGIN IMMEDIATE")
        outer.execute("INSERT INTO t VALUES (1)")
        with connect(path) as inner:
            assert inner is not outer
            assert inner.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
        outer.execute("COMMIT")
    with connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1


def test_a_transaction_left_open_by_a_failing_caller_is_rolled_back(tmp_path: Path):
    path = tmp_path / "state.db"
    create(path, SCHEMA)
    with pytest.raises(RuntimeError), connect(path) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("caller failed mid-transaction")
    with connect(path) as db:
        assert not db.in_transaction
        assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_a_replaced_file_is_reopened_so_writes_land_in_the_new_file(tmp_path: Path):
    path = tmp_path / "state.db"
    create(path, SCHEMA)
    with connect(path) as db:
        db.execute("INSERT INTO t VALUES (1)")
    for leftover in tmp_path.glob("state.db*"):
        leftover.unlink()
    create(path, SCHEMA)
    with connect(path) as db:
        db.execute("INSERT INTO t VALUES (2)")
    with connect(path) as db:
        assert [r[0] for r in db.execute("SELECT v FROM t")] == [2]
