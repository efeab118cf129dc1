from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from persona.memory import keywords
from persona.memory.keywords import KeywordIndex


def test_bm25_over_the_collection_and_the_scope(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(keywords, "_FEW", 5)  # as a large memory, where common words are skipped
    index = KeywordIndex(tmp_path / "k.sqlite")
    rows = [
        (f"n{i}", "team", "knowledge", "", "", f"weekly note {i} about the platform", "{}") for i in range(12)
    ]
    rows += [
        (
            "cut",
            "team",
            "knowledge",
            "Cutover moved",
            "dana reyes",
            "We decided to move the cutover to Sunday.",
            '{"source": "s1"}',
        ),
        ("cut-ex", "team", "exemplar", "", "", "The cutover moves, sorry.", "{}"),
        ("secret", "owner", "knowledge", "", "", "My own cutover worries.", "{}"),
    ]
    index.add(rows)
    index.add(rows[-2:])  # added again: replaced, not doubled
    assert index.count() == 15
    # "platform" is in most items: too common to rank by; "decide" finds "decided" (stemming)
    found = index.search(["platform", "decide"], ["team"], {"knowledge": 5})
    assert list(found["knowledge"]) == ["cut"] and found["knowledge"]["cut"] > 0  # BM25, higher is better
    assert index.search(["platform"], ["team"], {None: 5}) == {None: {}}
    assert set(index.search(["cutover"], ["team", "public"], {None: 5})[None]) == {"cut", "cut-ex"}
    # each kind asked for gets its own best items
    by_kind = index.search(["cutover"], ["team", "owner"], {"knowledge": 5, "exemplar": 5})
    assert sorted(by_kind["knowledge"]) == ["cut", "secret"] and list(by_kind["exemplar"]) == ["cut-ex"]
    assert index.search(['cutover") OR ("note'], ["owner"], {None: 5}) == {None: {}}  # quoted, not syntax
    assert index.items(["cut", "nobody"]) == {
        "cut": ("team", "knowledge", "We decided to move the cutover to Sunday.", '{"source": "s1"}')
    }
    # who wrote it is matched only as a person, never as one of a query's words
    assert index.people(["dana", "reyes", "cutover", "sunday"], ["team"]) == {"dana", "reyes"}
    assert index.people(["dana"], ["public"]) == set()
    assert index.search(["dana"], ["team"], {None: 5}) == {None: {}}
    index.delete(["cut"])
    assert index.search(["cutover"], ["team"], {"knowledge": 5}) == {"knowledge": {}}


def test_a_small_memory_keeps_every_word(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.add(
        [
            ("a", "team", "knowledge", "", "", "Ticket OPS-4471 tracks it.", "{}"),
            ("b", "team", "knowledge", "", "", "Other.", "{}"),
        ]
    )
    assert list(index.search(["ops-4471", "---"], ["team"], {None: 5})[None]) == ["a"]


def test_a_word_in_most_items_is_left_out_at_any_size(tmp_path: Path) -> None:
    # BM25 gives it no weight, yet it would list every item holding it as a keyword find
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.add([(f"w{i}", "team", "knowledge", "", "", f"Weekly note {i}.", "{}") for i in range(3)])
    index.add([("cut", "team", "knowledge", "", "", "The cutover note.", "{}")])
    assert list(index.search(["note"], ["team"], {None: 5})[None]) == []
    assert list(index.search(["note", "cutover"], ["team"], {None: 5})[None]) == ["cut"]
    assert (
        list(index.search(["weekly"], ["team"], {None: 5})[None]) == []
    )  # three of four items: more than half


def test_reads_go_on_while_a_large_add_is_being_written(tmp_path: Path) -> None:
    # memory upkeep adds items in the server's process: chat turns must not wait for it to finish
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.add(
        [("old", "team", "knowledge", "", "", "The cutover is on Sunday.", "{}")]
        + [(f"n{i}", "team", "knowledge", "", "", f"Weekly note {i}.", "{}") for i in range(3)]
    )
    writing, finish = threading.Event(), threading.Event()

    def slow_rows() -> Iterator[tuple[str, str, str, str, str, str, str]]:
        yield "new", "team", "knowledge", "", "", "The cutover moved to Monday.", "{}"
        writing.set()
        finish.wait(10)

    writer = threading.Thread(target=index.add, args=(slow_rows(),))
    writer.start()
    assert writing.wait(10)
    try:
        # the last commit, read while the write is still open
        assert list(index.search(["cutover"], ["team"], {None: 5})[None]) == ["old"]
        assert set(index.items(["old", "new"])) == {"old"}
        assert index.holding(["cutover"], ["team"], 5) == ["old"] and index.count() == 4
        assert writer.is_alive()
    finally:
        finish.set()
        writer.join()
    assert set(index.items(["old", "new"])) == {"old", "new"} and index.count() == 5


def test_an_index_from_before_the_side_tables_gets_them_on_opening(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite"
    KeywordIndex(path).add(
        [
            ("cut", "team", "knowledge", "", "dana reyes", "The cutover is on Sunday.", "{}"),
            ("other", "public", "exemplar", "", "", "Thanks!", "{}"),
        ]
    )
    with sqlite3.connect(path) as db:  # as an index written before `scopes` and `names` were kept
        db.execute("DROP TABLE scopes")
        db.execute("DROP TABLE names")
    index = KeywordIndex(path)
    assert sorted(index.every_scope()) == [("cut", "team", "knowledge"), ("other", "public", "exemplar")]
    assert index.people(["dana", "cutover"], ["team"]) == {"dana"}
    assert list(index.search(["cutover"], ["team"], {"knowledge": 5})["knowledge"]) == ["cut"]


def test_a_forgotten_item_names_nobody_and_is_in_no_scope(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.add(
        [
            ("a", "team", "knowledge", "", "dana reyes", "The cutover is on Sunday.", "{}"),
            ("b", "public", "exemplar", "", "sam", "Thanks, noted.", "{}"),
        ]
    )
    index.add([("a", "owner", "knowledge", "", "lena", "The cutover is on Sunday.", "{}")])  # replaced
    assert index.people(["dana", "lena", "sam"], ["owner", "team", "public"]) == {"lena", "sam"}
    assert index.scopes(["a", "b"]) == {"a": ("owner", "knowledge"), "b": ("public", "exemplar")}
    index.delete(["a"])
    assert index.people(["lena", "sam"], ["owner", "team", "public"]) == {"sam"}
    assert index.every_scope() == [("b", "public", "exemplar")]


def test_a_large_memory_ranks_by_its_rarest_terms_within_a_budget(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(keywords, "_LARGE", 10)
    monkeypatch.setattr(keywords, "_POSTINGS", 5)
    index = KeywordIndex(tmp_path / "k.sqlite")
    rows = [(f"n{i}", "team", "knowledge", "", "", f"note {i} on the platform", "{}") for i in range(8)]
    rows += [(f"r{i}", "team", "knowledge", "", "", f"the platform release {i}", "{}") for i in range(4)]
    rows += [("x", "team", "exemplar", "", "", "the platform release of OPS-7", "{}")]
    index.add(rows)
    # "ops-7" (1 item) and "release" (5) fit in 5 postings only one at a time: the rarer is taken
    found = index.search(["release", "ops-7"], ["team"], {None: 5, "knowledge": 5})
    assert found == {None: {"x": found[None]["x"]}, "knowledge": {}}
    monkeypatch.setattr(keywords, "_LARGE", 100)  # a memory this size ranks by every term as before
    assert set(index.search(["release", "ops-7"], ["team"], {None: 9})[None]) == {"x", "r0", "r1", "r2", "r3"}
