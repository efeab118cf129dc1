"""The owner cleans memory: forgetting an item, a source or an ingest run leaves nothing any search
finds (vector or keyword half), is audited, and junk files never reach memory at all."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from persona.home import Home
from persona.memory import catalog
from persona.memory.forget import forget, select_dated, select_item, select_run, select_source
from persona.memory.ingest import IngestSummary, ingest, new_run_id
from persona.memory.store import MemoryItem, MemoryStore
from persona.profile import Audience, Profile
from persona.store import StateStore

ALL = set(Audience)
OWNER_MAIL = (
    "From dana@example.com Mon Mar  3 09:00:00 2025\n"
    "From: Dana Reyes <dana@example.com>\nTo: sam@example.com\nSubject: Cutover\n"
    "Date: Mon, 03 Mar 2025 09:00:00 +0000\nMessage-ID: <m1@example.com>\n\n"
    "Sam, the Postgres cutover ticket is OPS-4471; it moves to Thursday.\n\nDana\n"
)


def _archive(root: Path) -> Path:
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "offsite.md").write_text(
        "# Offsite\nThe offsite is in Lisbon in June, booked by Priya.\n"
    )
    (root / "notes" / "kiln.md").write_text(
        "# Kiln\nThe pottery kiln code is KILN-7731 for the studio door.\n"
    )
    (root / "sent.mbox").write_text(OWNER_MAIL)
    (root / "team.json").write_text(
        json.dumps(
            {
                "title": "Launch",
                "messages": [
                    {
                        "from": "sam@example.com",
                        "date": "2025-03-04T10:00:00Z",
                        "text": "The launch party budget is 3,150 EUR.",
                    }
                ],
            }
        )
    )
    return root


def _ingest(path: Path, store: MemoryStore, owner: Profile) -> IngestSummary:
    return ingest([path], store=store, profile=owner, audience=Audience.TEAM)


def _found(store: MemoryStore, query: str) -> list[str]:
    return [hit.text for hit in store.search(query, ALL, k=10)]


def _gone_everywhere(store: MemoryStore, words: str) -> bool:
    """Neither search half, nor the keyword index on its own, holds an item with these words."""
    return (
        all(words not in text for text in _found(store, words))
        and store.texts_holding([words], ALL) == []
        and store._keywords.count() == store.count()
    )


@pytest.fixture
def log(home: Home) -> StateStore:
    return StateStore(home.state_db)


def test_forget_a_run_takes_back_what_it_added_and_no_more(
    tmp_path: Path, store: MemoryStore, owner: Profile, log: StateStore
):
    first = _ingest(_archive(tmp_path / "a") / "notes", store, owner)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "later.md").write_text("# Later\nThe kiln was moved, code KILN-9001.\n")
    second = _ingest(tmp_path / "b", store, owner)
    assert first.run != second.run and first.chunks_added == 2
    again = _ingest(tmp_path / "a" / "notes", store, owner)  # adds nothing, so owns nothing
    assert select_run(store, again.run).ids == []

    chosen = select_run(store, first.run)
    assert len(chosen.ids) == 2
    assert forget(store, log, chosen) == 2
    assert _gone_everywhere(store, "KILN-7731") and _gone_everywhere(store, "Lisbon")
    assert "KILN-9001" in _found(store, "kiln code")[0]
    entry = log.audit_entries(kind="memory_forgotten")[-1]
    assert (entry.subject, entry.detail) == (f"run {first.run}", {"removed": 2})


def test_forget_a_source_file_folder_message_or_label(
    tmp_path: Path, store: MemoryStore, owner: Profile, log: StateStore
):
    root = _archive(tmp_path / "archive")
    _ingest(root, store, owner)
    store.add(
        [
            MemoryItem.make(
                "Lunch with the auditors is on the 9th.", "knowledge", Audience.OWNER, source="plans"
            )
        ]
    )
    listed = {s.source: s for s in catalog.sources(store)}
    mbox = str(root / "sent.mbox")
    assert set(listed) == {
        str(root / "notes" / "offsite.md"),
        str(root / "notes" / "kiln.md"),
        mbox,
        str(root / "team.json"),
        "plans",
    }
    assert listed[mbox].kinds == {"knowledge": 1, "exemplar": 1}  # the owner's mail: a fact and a sample
    assert listed[mbox].first_date == "2025-03-03T09:00:00+00:00" and len(listed[mbox].runs) == 1
    assert listed["plans"].runs == []

    assert forget(store, log, select_source(store, mbox)) == 2  # both items of its one message
    assert _gone_everywhere(store, "OPS-4471")
    assert forget(store, log, select_source(store, str(root / "notes") + "/")) == 2  # a folder, slash or not
    assert _gone_everywhere(store, "Lisbon") and _gone_everywhere(store, "KILN-7731")
    assert forget(store, log, select_source(store, "plans")) == 1
    assert forget(store, log, select_source(store, str(root / "notes"))) == 0
    assert [s.source for s in catalog.sources(store)] == [str(root / "team.json")]
    assert len(log.audit_entries(kind="memory_forgotten")) == 3  # removing nothing is not an event


def test_search_shows_each_text_of_a_source_once_and_forgets_one_item(
    tmp_path: Path, store: MemoryStore, owner: Profile, log: StateStore
):
    root = _archive(tmp_path / "archive")
    _ingest(root, store, owner)
    hits = catalog.search(store, "Postgres cutover OPS-4471", ALL, k=5)
    cutover = [h for h in hits if "OPS-4471" in h.text]
    assert len(cutover) == 1  # stored as knowledge and as exemplar, shown once
    assert (cutover[0].source, cutover[0].date, cutover[0].audience) == (
        str(root / "sent.mbox"),
        "2025-03-03T09:00:00+00:00",
        "team",
    )
    assert len({h.id for h in hits}) == len(hits) and all(h.id for h in hits)

    assert forget(store, log, select_item(store, cutover[0].id)) == 1
    assert select_item(store, cutover[0].id).ids == []
    assert forget(store, log, select_item(store, "no-such-item")) == 0


def test_fingerprint_sees_a_delete_and_an_add_of_as_many(store: MemoryStore):
    store.add([MemoryItem.make("First fact.", "knowledge", Audience.TEAM, source="one")])
    before = store.fingerprint()
    store.delete_source("one")
    store.add([MemoryItem.make("Second fact.", "knowledge", Audience.TEAM, source="two")])
    assert store.count() == 1 and store.fingerprint() != before


def test_junk_never_reaches_memory_and_each_skip_has_a_reason(
    tmp_path: Path, store: MemoryStore, owner: Profile
):
    root = _archive(tmp_path / "archive") / "notes"
    (root / "junk.eml").write_bytes(os.urandom(300_000))
    (root / "junk.mbox").write_bytes(os.urandom(300_000))
    (root / "junk.txt").write_bytes(os.urandom(300_000))
    (root / "loop").symlink_to(root)
    with (root / "huge.md").open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    summary = _ingest(root, store, owner)
    reasons = {Path(s.source).name: s.reason for s in summary.skipped}
    assert set(reasons) == {"junk.eml", "junk.mbox", "junk.txt", "loop", "huge.md"}
    assert all(reasons[name].startswith("binary, not text") for name in ("junk.eml", "junk.mbox", "junk.txt"))
    assert reasons["huge.md"] == "note larger than 2 MiB (PERSONA_INGEST_MAX_NOTE_BYTES)"
    assert reasons["loop"] == "read already (by another path or link)"
    assert (summary.documents, store.count()) == (2, 2)  # offsite.md and kiln.md, once each
    assert {s.source for s in catalog.sources(store)} == {str(root / "offsite.md"), str(root / "kiln.md")}


def test_run_ids_sort_by_time():
    from datetime import UTC, datetime

    early, late = (new_run_id(datetime(2026, 12, 7, h, tzinfo=UTC)) for h in (9, 10))
    assert early.startswith("20261207-090000-") and early < late


def test_forget_by_date_takes_the_days_asked_by_the_documents_own_day(
    tmp_path: Path, store: MemoryStore, owner: Profile, log: StateStore
):
    def dated(text: str, when: str) -> MemoryItem:
        return MemoryItem.make(text, "knowledge", Audience.TEAM, source="diary", date=when)

    store.add(
        [
            dated("The 2024 budget closed at 3,150 EUR.", "2024-12-31T23:30:00-05:00"),  # 1 Jan in UTC
            dated("The January kickoff was in Porto.", "2025-01-01T09:00:00+01:00"),
            dated("The June offsite was in Lisbon.", "2025-06-14T10:00:00+00:00"),
            MemoryItem.make(
                "The studio door code is KILN-7731.", "knowledge", Audience.TEAM, source="undated"
            ),
        ]
    )
    metas = dict(store.entries())

    def chosen(**days) -> set[str]:
        return {metas[id_]["date"][:10] for id_ in select_dated(store, **days).ids}

    assert chosen(before=date(2025, 1, 1)) == {"2024-12-31"}  # the day the document gives, not UTC's
    assert chosen(since=date(2025, 1, 1)) == {"2025-01-01", "2025-06-14"}
    assert chosen(since=date(2025, 1, 1), before=date(2025, 6, 14)) == {"2025-01-01"}
    assert chosen(since=date(2026, 1, 1)) == set()
    with pytest.raises(ValueError):
        select_dated(store)

    selection = select_dated(store, since=date(2025, 1, 1), before=date(2025, 7, 1))
    assert selection.what == "dated since 2025-01-01 and before 2025-07-01"
    assert forget(store, log, selection) == 2
    assert _gone_everywhere(store, "Lisbon") and _gone_everywhere(store, "Porto")
    assert {s.source for s in catalog.sources(store)} == {"diary", "undated"}  # no date: never chosen by date
    entry = log.audit_entries(kind="memory_forgotten")[-1]
    assert (entry.subject, entry.detail) == ("dated since 2025-01-01 and before 2025-07-01", {"removed": 2})
