from __future__ import annotations

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
