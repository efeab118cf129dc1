"""The owner's memory through HTTP: search hits that say where they came from, sources, forgetting."""

from __future__ import annotations

from server_helpers import OWNER_SECRET, TEAM_FACT, Served

from persona.memory.store import MemoryItem
from persona.profile import Audience


def test_search_hits_carry_id_source_and_date_once_each(twin: Served):
    mail = "Dana: the vendor review moves to the 14th, room Oslo."
    twin.app.memory.add(
        [
            MemoryItem.make(
                mail, kind, Audience.TEAM, source="/mail/sent.mbox#3", date="2026-11-30T09:00:00+00:00"
            )
            for kind in ("knowledge", "exemplar")
        ]
    )
    hits = twin.client.get(
        "/api/memory/search", params={"q": "vendor review Oslo"}, headers=twin.headers("owner")
    ).json()
    same = [h for h in hits if h["text"] == mail]
    assert len(same) == 1
    assert set(same[0]) == {"id", "text", "audience", "kind", "source", "date", "score"}
    assert (same[0]["source"], same[0]["date"], same[0]["audience"]) == (
        "/mail/sent.mbox",
        "2026-11-30T09:00:00+00:00",
        "team",
    )
    assert any(
        h["text"] == OWNER_SECRET
        for h in twin.client.get(
            "/api/memory/search", params={"q": "Helix offer"}, headers=twin.headers("owner")
        ).json()
    )


def test_sources_list_and_forget_a_source_then_an_item(twin: Served):
    owner = twin.headers("owner")
    twin.app.memory.add(
        [
            MemoryItem.make(
                "The badge printer code is 4417.", "knowledge", Audience.TEAM, source="/notes/office.md"
            )
        ]
    )
    listed = {s["source"]: s for s in twin.client.get("/api/memory/sources", headers=owner).json()}
    assert listed["/notes/office.md"]["items"] == 1 and listed["/notes/office.md"]["kinds"] == {
        "knowledge": 1
    }
    assert set(listed["/notes/office.md"]) == {
        "source",
        "items",
        "kinds",
        "audiences",
        "first_date",
        "last_date",
        "runs",
    }

    gone = twin.client.delete("/api/memory/sources", params={"source": "/notes"}, headers=owner)
    assert gone.json() == {"removed": 1}
    hits = twin.client.get("/api/memory/search", params={"q": "badge printer code"}, headers=owner).json()
    assert all("4417" not in h["text"] for h in hits)

    fact = next(
        h
        for h in twin.client.get("/api/memory/search", params={"q": "Postgres cutover"}, headers=owner).json()
        if h["text"] == TEAM_FACT
    )
    assert twin.client.delete(f"/api/memory/items/{fact['id']}", headers=owner).json() == {"removed": 1}
    assert twin.client.delete(f"/api/memory/items/{fact['id']}", headers=owner).json() == {"removed": 0}
    assert all(
        h["text"] != TEAM_FACT
        for h in twin.client.get("/api/memory/search", params={"q": "Postgres cutover"}, headers=owner).json()
    )
    audited = twin.app.store.audit_entries(kind="memory_forgotten")
    assert [e.subject for e in audited] == ["source /notes", f"item {fact['id']}"]


def test_forget_by_date_counts_first_then_removes_and_needs_a_day(twin: Served):
    owner = twin.headers("owner")
    twin.app.memory.add(
        [
            MemoryItem.make(
                f"Standup note {day}: the deploy train leaves at 10.",
                "knowledge",
                Audience.TEAM,
                source="/notes/standups.md",
                date=f"2023-05-{day}T09:00:00+02:00",
            )
            for day in (10, 11, 12)
        ]
    )
    span = {"since": "2023-05-11", "before": "2023-05-13"}
    assert twin.client.get("/api/memory/dated", params=span, headers=owner).json() == {"items": 2}
    assert twin.client.delete("/api/memory/dated", params=span, headers=owner).json() == {"removed": 2}
    assert twin.client.get("/api/memory/dated", params={"before": "2023-06-01"}, headers=owner).json() == {
        "items": 1
    }
    assert (
        twin.app.store.audit_entries(kind="memory_forgotten")[-1].subject
        == "dated since 2023-05-11 and before 2023-05-13"
    )

    for wrong in ({}, {"since": "2023-05-12", "before": "2023-05-11"}, {"before": "May 2023"}):
        refused = twin.client.delete("/api/memory/dated", params=wrong, headers=owner)
        assert refused.status_code == 422, (wrong, refused.text)
    assert (
        twin.client.delete("/api/memory/dated", params=span, headers=twin.headers("colleague_a")).status_code
        == 403
    )


def test_forget_an_ingest_run_counts_first_then_removes_it(twin: Served):
    owner = twin.headers("owner")
    twin.app.memory.add(
        [
            MemoryItem.make(
                f"Runbook step {i}: drain the queue.",
                "knowledge",
                Audience.TEAM,
                source="/notes/runbook.md",
                ingest_run="20261207-101500-beef",
            )
            for i in range(3)
        ]
    )
    run = "/api/memory/runs/20261207-101500-beef"
    assert twin.client.get(run, headers=owner).json() == {"items": 3}
    assert twin.client.delete(run, headers=twin.headers("colleague_a")).status_code == 403
    assert twin.client.delete(run, headers=owner).json() == {"removed": 3}
    assert twin.client.get(run, headers=owner).json() == {"items": 0}
    assert twin.app.store.audit_entries(kind="memory_forgotten")[-1].subject == "run 20261207-101500-beef"
    assert twin.client.get("/api/memory/runs/" + "x" * 65, headers=owner).status_code == 422
