from __future__ import annotations

import json
import random
from email.message import EmailMessage
from pathlib import Path

from persona.memory.ingest import ingest
from persona.memory.store import MemoryStore
from persona.memory.style import StyleCard
from persona.profile import Audience, Profile

TOPICS = [
    "budget",
    "hiring",
    "launch",
    "offsite",
    "roadmap",
    "invoice",
    "security review",
    "demo",
    "contract",
]
WORDS = [
    "please",
    "review",
    "the",
    "draft",
    "before",
    "friday",
    "we",
    "need",
    "numbers",
    "from",
    "finance",
    "and",
    "a",
    "decision",
    "on",
    "scope",
    "the",
    "customer",
    "asked",
    "about",
    "timelines",
    "so",
    "let",
    "us",
    "align",
    "in",
    "the",
    "next",
    "sync",
    "with",
    "product",
    "and",
    "design",
]
PEOPLE = ["sam@example.com", "pat@example.com", "kim@vendor.example", "lee@example.com"]


def _write_corpus(folder: Path, n: int, seed: int = 7) -> int:
    """n .eml files: people write to the owner, and every third message is the owner's reply."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    owner_count = 0
    for i in range(n):
        msg = EmailMessage()
        topic = rng.choice(TOPICS)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        if i % 3 == 2:
            owner_count += 1
            asker = PEOPLE[(i - 1) % len(PEOPLE)]
            msg["From"], msg["To"] = "Dana Reyes <dana@example.com>", asker
            msg["Subject"] = f"Re: {topic} {i - 1}"
            msg["In-Reply-To"] = f"<m{i - 1}@example.com>"
            text = f"Hi {asker.split('@')[0].title()},\n\nOn the {topic}: {body}.\n\nThanks,\nDana\n"
            text += f"\nOn Mon, 3 Mar 2025, {asker} wrote:\n> earlier question {i - 1}\n"
        else:
            msg["From"], msg["To"] = PEOPLE[i % len(PEOPLE)], "dana@example.com"
            msg["Subject"] = f"{topic} {i}"
            text = f"Hello Dana, question {i} about the {topic}: {body}?\n"
        msg["Message-ID"] = f"<m{i}@example.com>"
        msg["Date"] = f"Mon, 03 Mar 2025 {i % 24:02d}:{i % 60:02d}:00 +0000"
        msg.set_content(text)
        (folder / f"{i:04d}.eml").write_bytes(msg.as_bytes())
    return owner_count


def test_ingest_thousand_emails_twice_adds_nothing_the_second_time(
    tmp_path: Path, store: MemoryStore, owner: Profile
) -> None:
    folder = tmp_path / "mail"
    owner_count = _write_corpus(folder, 1000)
    first = ingest([folder], store=store, profile=owner, audience=Audience.TEAM)
    assert first.documents == 1000 and first.files == 1000 and first.skipped == []
    assert first.owner_written == owner_count == 333
    assert store.count("exemplar") == 333
    assert first.chunks_added == store.count() >= 1000 + 333
    assert len(first.owner_texts) == 333 and all(t.startswith("Hi ") for t in first.owner_texts)

    embedded = store.embedder.embedded
    second = ingest([folder], store=store, profile=owner, audience=Audience.TEAM)
    assert second.chunks_added == 0
    assert second.chunks_present == first.chunks_added
    assert store.count() == first.chunks_added
    assert store.embedder.embedded == embedded  # nothing is embedded again

    card = StyleCard.load(store.home.style_card_path)
    assert card is not None and card.samples == 333  # recomputed from the store, not double-counted
    assert card.greetings[0].text == "Hi {name}," and card.greetings[0].share == 1.0
    assert card.signoffs[0].text == "Thanks, Dana"


def test_exemplars_carry_context_and_audience(tmp_path: Path, store: MemoryStore, owner: Profile) -> None:
    folder = tmp_path / "mail"
    _write_corpus(folder, 6)
    ingest([folder], store=store, profile=owner, audience=Audience.OWNER)
    hits = store.exemplars("launch budget hiring", {Audience.OWNER}, k=5)
    assert len(hits) == 2
    for hit in hits:
        meta = hit.metadata
        assert meta["audience"] == "owner" and meta["author"] == "dana@example.com"
        assert meta["subject"].startswith("Re: ")
        assert meta["incoming_author"] in PEOPLE
        assert meta["incoming_text"].startswith("Hello Dana, question")
        assert "wrote:" not in hit.text and hit.text.endswith("Thanks,\nDana")
    assert store.exemplars("launch budget hiring", {Audience.TEAM, Audience.PUBLIC}, k=5) == []


def test_notes_and_chats(tmp_path: Path, store: MemoryStore, owner: Profile) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "plan.md").write_text("# Hiring\n\nWe hire two backend engineers in Q3.\n")
    (tmp_path / "notes" / "chat.json").write_text(
        json.dumps(
            [
                {
                    "from": "Dana Reyes",
                    "date": "2025-03-03T10:00:00Z",
                    "text": "Can we push the demo to Friday?",
                },
                {"from": "sam@example.com", "date": "2025-03-03T10:01:00Z", "text": "Friday is fine."},
            ]
        )
    )
    (tmp_path / "notes" / "junk.bin").write_bytes(b"\x00")
    summary = ingest(
        [tmp_path / "notes"], store=store, profile=owner, audience=Audience.PUBLIC, progress=True
    )
    assert summary.documents == 3
    assert summary.owner_written == 1  # the chat line matched by name; notes are not exemplars
    assert [s.reason for s in summary.skipped] == ["unsupported file type"]
    assert store.count("exemplar") == 1 and store.count("knowledge") == 3
    assert summary.owner_texts == [] and summary.style_card is None  # chats do not shape mail style
    [note] = store.search("backend engineers hiring", {Audience.PUBLIC}, k=1)
    assert note.metadata["doc_kind"] == "note" and note.metadata["author"] == "dana@example.com"


def _chat(path: Path, messages: list[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "title": "Ana and Ben",
                "participants": ["Ana", "Ben"],
                "messages": [{"from": who, "date": when, "text": text} for who, when, text in messages],
            }
        )
    )


def test_a_chat_message_is_kept_with_its_speaker_the_turn_it_answers_and_its_dates(
    tmp_path: Path, store: MemoryStore, owner: Profile
) -> None:
    _chat(
        tmp_path / "chat.json",
        [
            ("Ben", "2023-05-08T13:56:00Z", "What have you been up to?"),
            ("Ana", "2023-05-08T13:57:00Z", "Yes, I went there yesterday."),
            ("Ben", "2023-05-08T13:58:00Z", "Yes, I went there yesterday."),  # the same words, elsewhere
        ],
    )
    first = ingest([tmp_path], store=store, profile=owner, audience=Audience.TEAM)
    assert first.chunks_added == 3  # one item a message: the repeated words are a message of their own
    [hit] = store.search("been up to", {Audience.TEAM}, k=1, where={"speaker": "Ana"})
    assert hit.text == "Ana: Yes, I went there yesterday [7 May 2023]."
    assert hit.metadata["context"] == "Ben: What have you been up to?"
    assert hit.metadata["source"] == f"{tmp_path / 'chat.json'}#1"  # the exact message, for citations
    assert hit.metadata["dates"] == "2023-05-07..2023-05-07" and hit.metadata["people"] == "ana, ben"
    again = ingest([tmp_path], store=store, profile=owner, audience=Audience.TEAM)
    assert again.chunks_added == 0 and again.chunks_present == 3
    assert store.search("been up to yesterday", {Audience.PUBLIC}, k=5) == []  # the audience holds


def test_a_question_naming_someone_or_a_time_prefers_what_they_said_then(
    tmp_path: Path, store: MemoryStore, owner: Profile
) -> None:
    _chat(
        tmp_path / "may.json",
        [
            ("Ana", "2023-05-08T10:00:00Z", "I adopted a dog from the shelter."),
            ("Ben", "2023-05-08T10:01:00Z", "I adopted a dog from the shelter too."),
        ],
    )
    _chat(
        tmp_path / "july.json",
        [
            (
                "Ben",
                "2023-07-20T10:00:00Z",
                "What dog did you adopt?",
            ),  # a question: the fact is in its answer
            ("Ana", "2023-07-20T10:01:00Z", "We adopted a greyhound called Pip last week."),
        ],
    )
    ingest([tmp_path], store=store, profile=owner, audience=Audience.TEAM)
    said_by = [h.text for h in store.search("Which dog did Ben adopt?", {Audience.TEAM}, k=4)]
    assert said_by.index("Ben: I adopted a dog from the shelter too.") < said_by.index(
        "Ana: I adopted a dog from the shelter."
    )
    in_may = [h.text for h in store.search("What did Ana adopt in May 2023?", {Audience.TEAM}, k=4)]
    assert in_may[0] == "Ana: I adopted a dog from the shelter."
    answered = [h.text for h in store.search("What dog did Ana adopt?", {Audience.TEAM}, k=4)]
    assert answered.index(
        "Ana: We adopted a greyhound called Pip last week [the week of 10 July 2023]."
    ) < answered.index("Ben: What dog did you adopt?")


def _mail(
    folder: Path,
    name: str,
    sender: str,
    to: str,
    subject: str,
    text: str,
    *,
    message_id: str = "",
    in_reply_to: str = "",
) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = "Mon, 03 Mar 2025 10:00:00 +0000"
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(text)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(msg.as_bytes())


def _situations(store: MemoryStore) -> list[tuple[str, dict]]:
    got = store._collection.get(where={"kind": "situation"}, include=["documents", "metadatas"])
    return list(zip(got["documents"], got["metadatas"]))


def test_a_reply_makes_a_situation_found_by_the_mail_it_answers(
    tmp_path: Path, store: MemoryStore, owner: Profile
) -> None:
    folder = tmp_path / "mail"
    _mail(
        folder,
        "1.eml",
        "Sam Okafor <sam@example.com>",
        "dana@example.com",
        "Dinner on the 20th",
        "Would you join us for the board dinner on the 20th?",
        message_id="<a1@example.com>",
    )
    _mail(
        folder,
        "2.eml",
        "Dana Reyes <dana@example.com>",
        "sam@example.com",
        "Re: Dinner on the 20th",
        "Sorry Sam, I can't make it that night.\n\nDana",
        in_reply_to="<a1@example.com>",
    )
    _mail(folder, "3.eml", "Pat <pat@example.com>", "dana@example.com", "Parking", "Where do I park?")
    first = ingest([folder], store=store, profile=owner, audience=Audience.TEAM)
    [(text, meta)] = _situations(store)
    assert text == "Dinner on the 20th\nWould you join us for the board dinner on the 20th?"
    assert meta["author"] == "sam@example.com" and meta["replied_by"] == "dana@example.com"
    assert meta["reply"].startswith("Sorry Sam, I can't make it")
    hits = store.search("invitation to a dinner", [Audience.TEAM], k=1, kind="situation")
    assert hits and hits[0].metadata["reply"] == meta["reply"]
    assert store.search("invitation to a dinner", [Audience.PUBLIC], k=1, kind="situation") == []
    again = ingest([folder], store=store, profile=owner, audience=Audience.TEAM)
    assert first.chunks_added > 0 and again.chunks_added == 0


def test_a_reply_without_headers_is_joined_by_its_quote_or_by_subject(
    tmp_path: Path, store: MemoryStore, owner: Profile
) -> None:
    folder = tmp_path / "mail"
    # archives like Enron's: no In-Reply-To, the original quoted under an Outlook header
    _mail(
        folder,
        "1.",
        "dana@example.com",
        "kim@vendor.example",
        "RE: Speaking slot",
        "No thank you, Kim.\n\n -----Original Message-----\nFrom: \tKim Lee <kim@vendor.example>\n"
        "Sent:\tMonday, March 3, 2025 9:00 AM\nTo:\tReyes, Dana\nSubject:\tSpeaking slot\n\n"
        "Could you speak at our vendor summit?\n",
    )
    # no quote either: the mail from a recipient with the same subject
    _mail(folder, "2.", "lee@example.com", "dana@example.com", "Offsite venue", "Which venue do you prefer?")
    _mail(folder, "3.", "dana@example.com", "lee@example.com", "Re: Offsite venue", "The lake one.\n\nDana")
    ingest([folder], store=store, profile=owner, audience=Audience.TEAM)
    found = {meta["author"]: (text, meta["reply"]) for text, meta in _situations(store)}
    assert found["kim@vendor.example"] == (
        "Speaking slot\nCould you speak at our vendor summit?",
        "No thank you, Kim.",
    )
    assert found["lee@example.com"] == ("Offsite venue\nWhich venue do you prefer?", "The lake one.\n\nDana")
    assert len(found) == 2


def test_a_chat_message_knows_its_neighbours_and_an_answer_is_found_by_the_question_before_it(
    tmp_path: Path, store: MemoryStore, owner: Profile
) -> None:
    _chat(
        tmp_path / "owner" / "chat.json",
        [
            ("Ben", "2023-06-09T10:00:00Z", "What a lovely wedding photo! How long have you been married?"),
            ("Ana", "2023-06-09T10:01:00Z", "5 years already! Time flies."),
            ("Ben", "2023-06-09T10:02:00Z", "Wow, congrats to you both."),
        ],
    )
    _chat(tmp_path / "team" / "chat.json", [("Ben", "2023-06-10T10:00:00Z", "The build is green again.")])
    ingest([tmp_path / "owner"], store=store, profile=owner, audience=Audience.OWNER)
    ingest([tmp_path / "team"], store=store, profile=owner, audience=Audience.TEAM)
    turns = {
        meta["source"].rsplit("#", 1)[1]: (id_, meta)
        for id_, meta in store.entries(where={"kind": "knowledge"})
        if "owner" in meta["source"]
    }
    assert "prev" not in turns["0"][1] and turns["0"][1]["next"] == turns["1"][0]
    assert turns["1"][1]["prev"] == turns["0"][0] and turns["1"][1]["next"] == turns["2"][0]
    assert turns["2"][1]["prev"] == turns["1"][0] and "next" not in turns["2"][1]
    again = ingest([tmp_path / "owner"], store=store, profile=owner, audience=Audience.OWNER)
    assert again.chunks_added == 0
    hits = [h.text for h in store.search("How long has Ana been married?", {Audience.OWNER}, k=2)]
    assert "Ana: 5 years already! Time flies." in hits
    # neighbours join a search only in its scope: the team sees none of the owner's chat
    assert [h.text for h in store.search("How long has Ana been married?", {Audience.TEAM}, k=4)] == [
        "Ben: The build is green again."
    ]
