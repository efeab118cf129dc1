from __future__ import annotations

import asyncio
import json
import math
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from fake_embedder import HashedWordsEmbedder

from persona.errors import ConfigError
from persona.home import Home
from persona.memory.embedding import Embedder
from persona.memory.store import MemoryItem, MemoryStore, _without
from persona.profile import Audience
from persona.settings import Settings

OWNER, TEAM, PUBLIC = Audience.OWNER, Audience.TEAM, Audience.PUBLIC

FACTS = [
    ("My salary negotiation with HR: I asked for a raise to 120k in the March review.", OWNER),
    ("The team offsite is planned in Lisbon in the second week of June.", TEAM),
    ("Northwind's public office hours are Monday to Friday, nine to five.", PUBLIC),
    ("The staging database password rotates every 30 days; ticket OPS-4471 tracks it.", TEAM),
    ("Lunch options near the office: ramen on Main Street and a falafel place.", PUBLIC),
]


@pytest.fixture(params=["chroma", "held"])
def store(request: pytest.FixtureRequest, home: Home, embedder: HashedWordsEmbedder) -> MemoryStore:
    """Each search test runs both ways a store finds nearest neighbours: by asking Chroma's index, and
    from the vectors a server holds in memory."""
    memory = MemoryStore(home, Settings(embedding_model=None, chroma_url=None), embedder)
    if request.param == "held":
        memory.keep_vectors_in_memory()
    return memory


def _items() -> list[MemoryItem]:
    return [
        MemoryItem.make(text, "knowledge", aud, source=f"facts#{i}") for i, (text, aud) in enumerate(FACTS)
    ]


def test_embedder_is_normalised_and_semantic(real_embedder: Embedder) -> None:
    a, b, c = real_embedder.embed(["When is the team offsite?", "The offsite is in June.", "Ramen for lunch"])
    assert real_embedder.dim == len(a) == 384
    assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-4)
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))
    assert dot(a, b) > dot(a, c)
    assert real_embedder.embed([]) == []


def test_a_question_is_embedded_once_and_a_failure_is_not_kept(
    real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = real_embedder.encoder.encode_query

    def counted(text: str) -> np.ndarray:
        calls.append(text)
        if text == "fails once" and calls.count(text) == 1:
            raise RuntimeError("model fell over")
        return real(text)

    monkeypatch.setattr(real_embedder.encoder, "encode_query", counted)
    question = "Who covers on-call next week?"
    vector = real_embedder.embed_query(question)
    assert real_embedder.embed_query(question) == vector == real(question).tolist()
    assert calls == [question]

    with pytest.raises(RuntimeError, match="fell over"):
        real_embedder.embed_query("fails once")
    assert real_embedder.embed_query("fails once") == real("fails once").tolist()
    assert calls.count("fails once") == 2


def test_a_question_embeds_close_to_the_same_text_as_a_document(real_embedder: Embedder) -> None:
    # questions run on an int8 copy of the model, documents on the full one: they must still meet
    texts = ["When is the Postgres 16 cutover?", "Lunch options near the office", "Who covers on-call?"]
    documents = np.array(real_embedder.embed(texts))
    questions = np.array([real_embedder.embed_query(t) for t in texts])
    assert np.allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-4)
    assert (questions * documents).sum(1).min() > 0.97
    assert (questions @ documents.T).argmax(1).tolist() == [0, 1, 2]


def test_embedder_rejects_a_folder_that_is_no_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PERSONA_EMBEDDING_MODEL"):
        Embedder(Settings(embedding_model=str(tmp_path))).embed(["x"])


def test_add_is_idempotent_and_counts(store: MemoryStore) -> None:
    assert store.add(_items()) == 5
    assert store.add(_items()) == 0
    assert store.add([MemoryItem.make("Owner writes like this.", "exemplar", OWNER, doc_kind="mail")]) == 1
    assert (store.count(), store.count("knowledge"), store.count("exemplar")) == (6, 5, 1)
    assert store.exemplar_texts("mail") == ["Owner writes like this."]
    store.delete_source("facts#0")
    assert store.count("knowledge") == 4


def test_audience_filter_applies_before_ranking(store: MemoryStore) -> None:
    store.add(_items())
    salary = "what salary raise did I ask HR for in the March review?"
    best_for_owner = store.search(salary, {OWNER, TEAM, PUBLIC}, k=1)
    assert best_for_owner[0].metadata["audience"] == "owner"  # it really is the best match
    for k in (1, 3, 10):
        hits = store.search(salary, {TEAM, PUBLIC}, k=k)
        assert hits, "other items are still returned"
        assert all(h.metadata["audience"] in {"team", "public"} for h in hits)
        assert not any("salary" in h.text for h in hits)
    public_only = store.search("offsite in Lisbon", {PUBLIC}, k=10)
    assert {h.metadata["audience"] for h in public_only} == {"public"}
    assert store.search(salary, set(), k=5) == []


def test_where_narrows_but_cannot_widen_the_audience(store: MemoryStore) -> None:
    store.add(_items())
    hits = store.search("salary raise", {PUBLIC}, k=5, where={"audience": "owner"})
    assert hits == []
    hits = store.search("anything", {TEAM, PUBLIC}, k=5, where={"source": "facts#1"})
    assert [h.text for h in hits] == [FACTS[1][0]]


def test_keyword_match_lifts_exact_identifiers(store: MemoryStore) -> None:
    store.add(_items())
    filler = [f"Ticket OPS-{1000 + i} was closed after the deploy on day {i}." for i in range(30)]
    store.add([MemoryItem.make(t, "knowledge", TEAM) for t in filler])
    hits = store.search("OPS-4471", {TEAM}, k=3)
    assert hits[0].text == FACTS[3][0]
    assert hits[0].score >= hits[1].score


def test_exemplar_search_returns_only_exemplars(store: MemoryStore) -> None:
    store.add(_items())
    store.add(
        [
            MemoryItem.make(
                "Hi Sam,\n\nLisbon works for me.\n\nThanks,\nDana", "exemplar", TEAM, doc_kind="mail"
            )
        ]
    )
    hits = store.exemplars("offsite in Lisbon", {TEAM, PUBLIC}, k=5)
    assert [h.metadata["kind"] for h in hits] == ["exemplar"]


@pytest.mark.parametrize("held", [False, True], ids=["chroma", "held"])
def test_search_kinds_equals_one_search_per_kind(home: Home, real_embedder: Embedder, held: bool) -> None:
    """On the real model's vectors: among 300 notes that differ only in a number, Chroma's filtered HNSW
    query for the 2 exemplars finds 0, 1 or 2 of them when words are hashed."""
    store = MemoryStore(home, Settings(embedding_model=None, chroma_url=None), real_embedder)
    if held:
        store.keep_vectors_in_memory()
    store.add(_items())
    # many knowledge items around the query and few exemplars: one kind fills its share of the shared
    # unfiltered query, the other must be found by Chroma's filtered query
    store.add(
        [
            MemoryItem.make(f"Offsite logistics note {i}: Lisbon hotel block {i}.", "knowledge", TEAM)
            for i in range(300)
        ]
    )
    store.add(
        [
            MemoryItem.make(f"Lisbon offsite works for me, option {i}. Dana", "exemplar", aud)
            for i, aud in enumerate([TEAM, OWNER, PUBLIC])
        ]
    )
    query = "offsite hotel in Lisbon"
    both = store.search_kinds(query, {TEAM, PUBLIC}, {"knowledge": 4, "exemplar": 2})
    for kind, k in (("knowledge", 4), ("exemplar", 2)):
        alone = store.search(query, {TEAM, PUBLIC}, k=k, kind=kind)
        assert [h.text for h in both[kind]] == [h.text for h in alone]
        assert len(both[kind]) == k and {h.metadata["kind"] for h in both[kind]} == {kind}
    assert all(h.metadata["audience"] != "owner" for h in both["exemplar"])
    assert store.search_kinds(query, {TEAM}, {"knowledge": 3, "exemplar": 0})["exemplar"] == []


def test_a_prefetched_search_runs_once_for_the_same_scope_and_its_result_is_taken_once(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(_items())
    runs: list[tuple[str, frozenset[Audience]]] = []
    real = store._search

    def counted(query, audiences, ks, where):  # type: ignore[no-untyped-def]
        runs.append((query, frozenset(audiences)))
        return real(query, audiences, ks, where)

    monkeypatch.setattr(store, "_search", counted)
    query, wanted = "what salary raise did I ask HR for?", {"knowledge": 2, "exemplar": 1}
    store.prefetch_kinds(query, {TEAM, PUBLIC}, wanted)
    store.prefetch_kinds(query, {TEAM, PUBLIC}, wanted)  # already started: not started twice
    found = asyncio.run(store.asearch_kinds(query, [PUBLIC, TEAM], wanted))  # as the twin's turn takes it
    assert runs == [(query, frozenset({TEAM, PUBLIC}))]
    assert found["knowledge"] and all(h.metadata["audience"] != "owner" for h in found["knowledge"])
    # a search with a wider scope is its own search, never the narrower one's result; taken once, the
    # prefetched result is gone and the next search runs anew
    owner_view = store.search_kinds(query, {OWNER, TEAM, PUBLIC}, wanted)
    assert "salary" in owner_view["knowledge"][0].text
    assert store.search_kinds(query, {TEAM, PUBLIC}, wanted) == found
    assert asyncio.run(store.asearch_kinds(query, {TEAM, PUBLIC}, wanted)) == found
    assert len(runs) == 4


@pytest.mark.parametrize("damage", ["audience", "metadata", "unreadable"])
def test_a_damaged_keyword_index_shows_no_owner_only_item(store: MemoryStore, damage: str) -> None:
    """The keyword index picks candidates by the audience it keeps, and a search reads the items it
    shows from there; a stale or damaged entry must still not show an owner-only item to anyone else."""
    secret = MemoryItem.make("Offer from Helix Robotics: EUR 212,400 base.", "knowledge", OWNER)
    store.add([secret, MemoryItem.make("The Helix Robotics demo is on Friday.", "knowledge", TEAM)])
    said = TEAM if damage == "audience" else OWNER  # the row's own column, or only its metadata
    team_meta = json.dumps({"kind": "knowledge", "audience": TEAM.value})
    if damage == "unreadable":
        team_meta = team_meta[:-3]
    store._keywords.add([(secret.id, said.value, "knowledge", "", "", secret.text, team_meta)])
    for query in ("Helix Robotics offer base", "212,400"):
        texts = [h.text for h in store.search(query, {TEAM, PUBLIC}, k=4)]
        assert texts == ["The Helix Robotics demo is on Friday."]
    owner_view = store.search("Helix Robotics offer", set(Audience), k=4)
    assert [h.metadata["audience"] for h in owner_view if h.text == secret.text] == [OWNER.value]


def test_found_items_carry_the_text_and_metadata_chroma_holds(store: MemoryStore) -> None:
    store.add(_items())
    stored = store._collection.get(include=["documents", "metadatas"])
    metadata_of = dict(zip(stored["documents"], stored["metadatas"]))
    for query in ("offsite in Lisbon", "OPS-4471", "lunch near the office"):
        hits = store.search(query, {TEAM, PUBLIC}, k=3)
        assert hits and all(h.metadata == metadata_of[h.text] for h in hits)


def test_a_keyword_index_from_before_item_metadata_is_rebuilt(
    home: Home, embedder: HashedWordsEmbedder, store: MemoryStore
) -> None:
    store.add(_items())
    path = home.memory_dir / "keywords.sqlite"
    path.unlink()
    stored = store._collection.get(include=["documents", "metadatas"])
    with closing(sqlite3.connect(path)) as old, old:  # the earlier layout, in step with Chroma
        old.execute(
            "CREATE VIRTUAL TABLE items USING fts5(id UNINDEXED, audience UNINDEXED, "
            "kind UNINDEXED, subject, text, tokenize='porter unicode61')"
        )
        old.executemany(
            "INSERT INTO items(id, audience, kind, subject, text) VALUES (?, ?, ?, '', ?)",
            [
                (id_, meta["audience"], meta["kind"], text)
                for id_, text, meta in zip(stored["ids"], stored["documents"], stored["metadatas"])
            ],
        )
    hit = MemoryStore(home, Settings(chroma_url=None), embedder).search("OPS-4471", {TEAM}, k=1)[0]
    assert (hit.text, hit.metadata["source"]) == (FACTS[3][0], "facts#3")


def test_other_embedding_model_is_refused(home: Home, real_embedder: Embedder, tmp_path: Path) -> None:
    MemoryStore(home, Settings(chroma_url=None), real_embedder).add(_items()[:1])
    other = tmp_path / "other-model"
    shutil.copytree(real_embedder.path, other)
    with pytest.raises(ConfigError, match="built with embedding model"):
        MemoryStore(home, Settings(chroma_url=None), Embedder(Settings(embedding_model=str(other))))


def test_http_client_against_real_chroma_server(
    home: Home, embedder: HashedWordsEmbedder, chroma_server: str
) -> None:
    store = MemoryStore(home, Settings(chroma_url=chroma_server), embedder)
    assert store.add(_items()) == 5
    assert store.add(_items()) == 0
    hits = store.search("salary raise March review", {TEAM, PUBLIC}, k=5)
    assert hits and all(h.metadata["audience"] != "owner" for h in hits)
    assert not (home.memory_dir / "chroma").exists()


def test_bad_chroma_url_is_a_config_error(home: Home, embedder: HashedWordsEmbedder) -> None:
    with pytest.raises(ConfigError, match="PERSONA_CHROMA_URL"):
        MemoryStore(home, Settings(chroma_url="not a url"), embedder)


@pytest.mark.parametrize("held", [False, True])
def test_nearest_items_outside_the_audience_do_not_crowd_out_the_rest(
    home: Home, real_embedder: Embedder, held: bool
) -> None:
    """Most neighbours of the query are owner-only: the public item is still found, nothing private is.
    With the real model: Chroma's filtered index search is approximate, and on hashed vectors among 120
    near-identical notes it sometimes found one of the two public items."""
    store = MemoryStore(home, Settings(embedding_model=None, chroma_url=None), real_embedder)
    if held:
        store.keep_vectors_in_memory()
    private = [
        f"Offsite in Lisbon, private note {i}: my own budget worries and travel plans." for i in range(120)
    ]
    store.add([MemoryItem.make(t, "knowledge", OWNER) for t in private])
    store.add(_items())
    hits = store.search("offsite in Lisbon budget", {PUBLIC}, k=3)
    assert sorted(h.text for h in hits) == sorted(t for t, a in FACTS if a == PUBLIC)  # both public facts
    assert store.search("offsite in Lisbon budget", {OWNER}, k=3)[0].metadata["audience"] == "owner"


def test_keyword_index_follows_deletes_and_is_rebuilt_when_out_of_step(
    home: Home, embedder: HashedWordsEmbedder, store: MemoryStore
) -> None:
    store.add(_items())
    filler = [f"Ticket OPS-{1000 + i} was closed after the deploy on day {i}." for i in range(30)]
    store.add([MemoryItem.make(t, "knowledge", TEAM) for t in filler])
    store.delete_source("facts#3")
    assert all("4471" not in h.text for h in store.search("OPS-4471", {TEAM}, k=3))
    store.add(_items())
    (home.memory_dir / "keywords.sqlite").unlink()  # a memory built before the index existed
    reopened = MemoryStore(home, Settings(chroma_url=None), embedder)
    assert reopened.search("OPS-4471", {TEAM}, k=3)[0].text == FACTS[3][0]


def test_without_names_keeps_the_topic() -> None:
    assert _without("What did Dana's team decide with Sam?", {"dana", "sam"}) == "What did team decide with ?"
    assert _without("What did Samantha say?", {"sam"}) == "What did Samantha say?"  # whole words only


@pytest.mark.parametrize("held", [False, True], ids=["chroma", "held"])
def test_a_question_naming_someone_finds_their_message_on_its_topic_and_nothing_out_of_scope(
    home: Home, real_embedder: Embedder, held: bool
) -> None:
    """Each of Nate's messages starts "Nate: ", so with the real model his greetings are nearer the
    question than what he said about the cleanup (in other words than the question's: no keyword finds
    it). The question without his name finds and ranks it; what the topic finds is shown only within the
    search's audiences, as the rest is."""
    store = MemoryStore(home, Settings(embedding_model=None, chroma_url=None), real_embedder)
    if held:
        store.keep_vectors_in_memory()
    chat = {"doc_kind": "chat", "speaker": "Nate", "people": "nate, joanna"}
    greetings = [
        "Nate here - what's up?",
        "Nate here, long time no talk!",
        "Hey, Nate speaking.",
        "Hi, this is Nate.",
    ]
    told = MemoryItem.make(
        "Nate: We're picking up litter along the docks on Saturday.", "knowledge", TEAM, **chat
    )
    secret = MemoryItem.make(
        "Nate: Litter pickers along the docks get paid from my pocket.", "knowledge", OWNER, **chat
    )
    store.add([*(MemoryItem.make(f"Nate: {g}", "knowledge", TEAM, **chat) for g in greetings), told, secret])
    question = "What did Nate say about the harbour cleanup?"
    hits = store.search(question, {TEAM, PUBLIC}, k=5)
    assert hits[0].text == told.text
    assert all(h.metadata["audience"] == TEAM.value for h in hits)
    assert {h.text for h in store.search(question, {OWNER, TEAM}, k=2)} == {told.text, secret.text}
