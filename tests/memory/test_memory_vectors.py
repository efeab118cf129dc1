"""Vectors held in memory (persona.memory.vectors): the same neighbours as Chroma's index, and in step
with every add and delete, from this process or another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fake_embedder import HashedWordsEmbedder

from persona.home import Home
from persona.memory import groups
from persona.memory.embedding import Embedder
from persona.memory.store import MemoryItem, MemoryStore
from persona.memory.vectors import VectorMatrix
from persona.profile import Audience
from persona.settings import Settings

OWNER, TEAM, PUBLIC = Audience.OWNER, Audience.TEAM, Audience.PUBLIC
SETTINGS = Settings(embedding_model=None, chroma_url=None)
TOPICS = ["the Lisbon offsite", "the Postgres cutover", "on-call handover", "the hiring loop", "Q3 budget"]


def _memory() -> list[MemoryItem]:
    """Notes of every audience and both kinds around a few topics, so neighbours crowd each other."""
    items = []
    for i in range(240):
        topic = TOPICS[i % len(TOPICS)]
        audience = (OWNER, TEAM, PUBLIC)[i % 3]
        kind = "exemplar" if i % 4 == 0 else "knowledge"
        text = f"Note {i} about {topic}: step {i % 7} is due on day {i % 11}."
        items.append(MemoryItem.make(text, kind, audience))
    return items


def test_held_vectors_find_the_neighbours_chroma_finds(home: Home, real_embedder: Embedder) -> None:
    """On the real model's vectors: on hashed words many neighbours tie, and HNSW orders ties its own way."""
    embedder = real_embedder
    asked = MemoryStore(home, SETTINGS, embedder)
    asked.add(_memory())
    held = MemoryStore(home, SETTINGS, embedder)
    held.keep_vectors_in_memory()
    pools = {"knowledge": 20, "exemplar": 20, None: 20}
    for query in ["When is the cutover?", "offsite plans in Lisbon", "who takes the on-call handover?"]:
        vector = embedder.embed_query(query)
        for allowed in (["public"], ["public", "team"], ["owner", "public", "team"]):
            from_chroma = asked._nearest(vector, pools, allowed, None)
            from_memory = held._nearest(vector, pools, allowed, None)
            for kind in pools:
                assert list(from_memory[kind]) == list(from_chroma[kind]), (query, allowed, kind)
                assert from_memory[kind] == pytest.approx(from_chroma[kind], abs=1e-5)
    # the kinds and audiences held are the items' own
    found = held.search("step 3 of the hiring loop", {PUBLIC}, k=5, kind="exemplar")
    assert len(found) == 5 and {(h.metadata["audience"], h.metadata["kind"]) for h in found} == {
        ("public", "exemplar")
    }


def _in_another_process(home: Home, settings: Settings, code: str) -> None:
    """Run `code` with `store`, a MemoryStore of the same home, in a process of its own."""
    script = (
        "from pathlib import Path\n"
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
        "from fake_embedder import HashedWordsEmbedder\n"
        "from persona.home import Home\n"
        "from persona.memory.store import MemoryItem, MemoryStore\n"
        "from persona.profile import Audience\n"
        "from persona.settings import Settings\n"
        f"settings = Settings.model_validate({settings.model_dump(mode='json')!r})\n"
        f"store = MemoryStore(Home(Path({str(home.root)!r})), settings, HashedWordsEmbedder())\n"
    ) + code
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2], timeout=120)


PLANS = MemoryItem.make("The offsite is in Lisbon in June.", "knowledge", TEAM, source="plans")
UPDATE = MemoryItem.make("The offsite moved to Porto, in September.", "knowledge", TEAM, source="update")


def test_held_vectors_follow_adds_and_deletes_made_by_another_process(
    home: Home, embedder: HashedWordsEmbedder, chroma_server: str
) -> None:
    settings = Settings(embedding_model=None, chroma_url=chroma_server)
    store = MemoryStore(home, settings, embedder)
    store.add([PLANS])
    store.keep_vectors_in_memory()
    assert [h.text for h in store.search("where is the offsite?", {TEAM}, k=3)] == [PLANS.text]
    _in_another_process(
        home,
        settings,
        (
            "store.add([MemoryItem.make('The offsite moved to Porto, in September.', 'knowledge', Audience.TEAM,"
            " source='update')])\n"
            "store.delete_source('plans')\n"
        ),
    )
    assert [h.text for h in store.search("where is the offsite?", {TEAM}, k=3)] == [UPDATE.text]
    vector = embedder.embed_query("where is the offsite?")
    assert list(store._nearest(vector, {None: 5}, ["team"], None)[None]) == [UPDATE.id]


@pytest.mark.parametrize("held", [True, False], ids=["vectors held", "over the limit: Chroma's index"])
def test_a_running_store_finds_what_another_process_added_and_not_what_it_forgot(
    home: Home, embedder: HashedWordsEmbedder, held: bool
) -> None:
    """Embedded Chroma keeps its vector index per process and reads another process's writes only after
    this one next writes: a search catches it up first, with the vectors held and without them (a
    memory over the limit, as above 10,000 items)."""
    store = MemoryStore(home, SETTINGS, embedder)
    store.add([PLANS])
    assert store.keep_vectors_in_memory(limit=100 if held else 0) is held
    assert [h.text for h in store.search("where is the offsite?", {TEAM}, k=3)] == [PLANS.text]
    _in_another_process(
        home,
        SETTINGS,
        (
            "store.add([MemoryItem.make('The offsite moved to Porto, in September.', 'knowledge', Audience.TEAM,"
            " source='update')])\n"
            "store.delete_source('plans')\n"
        ),
    )
    vector = embedder.embed_query("where is the offsite?")
    assert store._nearest(vector, {None: 5}, ["team"], None)[None].keys() == {UPDATE.id}
    assert [h.text for h in store.search("where is the offsite?", {TEAM}, k=3)] == [UPDATE.text]
    assert [h.text for h in store.search("moved to Porto in September", {TEAM}, k=3)] == [UPDATE.text]
    later = MemoryItem.make("Offsite travel is booked through the travel desk.", "knowledge", TEAM)
    _in_another_process(
        home, SETTINGS, f"store.add([MemoryItem.make({later.text!r}, 'knowledge', Audience.TEAM)])\n"
    )
    assert store._nearest(vector, {None: 5}, ["team"], None)[None].keys() == {UPDATE.id, later.id}


def test_a_memory_larger_than_the_limit_is_searched_in_chroma(
    home: Home, embedder: HashedWordsEmbedder
) -> None:
    store = MemoryStore(home, SETTINGS, embedder)
    assert store.keep_vectors_in_memory(limit=100)
    store.add(_memory()[:100])
    vector = embedder.embed_query("When is the cutover?")
    assert store._held is not None and store._held.nearest(vector, {None: 5}, ["team"]) is not None
    store.add(_memory()[100:])
    assert store._held.nearest(vector, {None: 5}, ["team"]) is None  # let go: Chroma answers
    assert not store._held.holding and not store.keep_vectors_in_memory(limit=100)
    hits = store.search("When is the Postgres cutover?", {TEAM}, k=3)
    assert len(hits) == 3
    assert all("Postgres cutover" in h.text and h.metadata["audience"] == "team" for h in hits)


def test_held_vectors_look_again_for_an_add_chroma_could_not_read_yet(home: Home, embedder: Embedder) -> None:
    """The matrix followed the keyword index before Chroma was brought up to date (a look between another
    process's write and this one's catching up): the item it could not read is read at the next look."""
    store = MemoryStore(home, SETTINGS, embedder)
    store.add([PLANS])
    store.keep_vectors_in_memory()
    _in_another_process(
        home,
        SETTINGS,
        (
            "store.add([MemoryItem.make('The offsite moved to Porto, in September.', 'knowledge', Audience.TEAM,"
            " source='update')])\n"
        ),
    )
    assert store._held is not None
    store._held.refresh()  # Chroma in this process cannot read the new item yet
    assert store._held.vectors([UPDATE.id]) == {}
    vector = embedder.embed_query("where is the offsite?")
    assert store._nearest(vector, {None: 5}, ["team"], None)[None].keys() == {UPDATE.id, PLANS.id}


def test_above_the_exact_limit_the_nearest_groups_find_what_exact_search_finds(
    home: Home, embedder: HashedWordsEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groups, "_LEAST", 4)  # a few of the 15 groups, as of the 1,000 at 1M items
    store = MemoryStore(home, SETTINGS, embedder)
    store.add(_memory())
    exact = VectorMatrix(store._keywords, store._collection, limit=1000, exact=1000)
    assert store.keep_vectors_in_memory(exact=50) and store._held is not None and store._held.grouped
    for question in ("When is the Postgres cutover?", "Q3 budget day 4", "the hiring loop step 2"):
        vector = embedder.embed_query(question)
        pools = {None: 5, "knowledge": 5, "exemplar": 3}
        for allowed in (["team"], ["public", "team"], ["owner", "public", "team"]):
            grouped, whole = (
                store._held.nearest(vector, pools, allowed),
                exact.nearest(vector, pools, allowed),
            )
            assert grouped is not None and whole is not None
            # as near, one for one (hashed words tie often, and ties come in the matrix's row order)
            assert {kind: [round(s, 5) for s in found.values()] for kind, found in grouped.items()} == {
                kind: [round(s, 5) for s in found.values()] for kind, found in whole.items()
            }
    assert not exact.grouped


def test_grouped_vectors_follow_adds_and_deletes_around_the_same_centroids(
    home: Home, embedder: HashedWordsEmbedder
) -> None:
    store = MemoryStore(home, SETTINGS, embedder)
    store.add(_memory()[:200])
    assert (
        store.keep_vectors_in_memory(exact=50) and store._held is not None and store._held._matrix is not None
    )
    centroids = store._held._matrix.groups.centroids  # type: ignore[union-attr]
    store.add([UPDATE])
    vector = embedder.embed_query(UPDATE.text)
    assert next(iter(store._nearest(vector, {None: 5}, ["team"], None)[None])) == UPDATE.id
    assert store._held._matrix.groups.centroids is centroids  # type: ignore[union-attr]
    store.delete([UPDATE.id])
    assert UPDATE.id not in store._nearest(vector, {None: 5}, ["team"], None)[None]
    assert len(store._held._matrix.ids) == 200
