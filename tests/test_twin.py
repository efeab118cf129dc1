"""The twin end to end with Chroma, hashed-word embeddings (tests/fake_embedder.py) and a scripted model
that leaks all it sees."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite import SqliteSaver

from persona.agent.checkpoints import Checkpoints, conversations_since
from persona.agent.graph import HISTORY_TURNS
from persona.app import App
from persona.events import Event, Principal, Provenance, Verdict
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.memory.store import MemoryItem
from persona.profile import Audience
from persona.settings import Settings

CANARY = "Offer from Helix Robotics: EUR 212,400 base, answer by 2026-12-04"
TEAM_FACT = "The Postgres 16 cutover is planned for 2026-12-08 at 06:00 CET."

pytestmark = pytest.mark.usefixtures("fake_embeddings")


def echo_everything(messages) -> str:
    """A maximally leaky model: repeats every word of every prompt message."""
    return "\n".join(str(m.content) for m in messages)


def make_app(home, replies) -> tuple[App, ScriptedChatModel]:
    model = ScriptedChatModel(replies=replies)
    app = App(home, Settings(), llm=LLM(model, local=True))
    app.memory.add(
        [
            MemoryItem.make(CANARY, "knowledge", Audience.OWNER, subject="job offer"),
            MemoryItem.make(TEAM_FACT, "knowledge", Audience.TEAM, subject="pg16 migration"),
            MemoryItem.make(
                "Hi Sam,\n\nYes, let's do it Tuesday.\n\nThanks, Dana",
                "exemplar",
                Audience.TEAM,
                recipients="sam@northwind.example",
                subject="Re: sync",
            ),
        ]
    )
    return app, model


def with_twin(app: App, address: str | None, text: str, session: str, work):
    """`work(twin, event)` on a freshly opened Twin, for a chat event from `address`."""
    from persona.agent.runner import Twin

    principal = Principal.resolve(app.profile, address)
    event = Event(
        channel="chat",
        principal=principal,
        text=text,
        session_id=session,
        provenance=Provenance.of(principal),
    )

    async def run():
        async with Twin.open(app) as twin:
            return await work(twin, event)

    return asyncio.run(run())


def ask(app: App, address: str | None, text: str, session: str = "s1"):
    return with_twin(app, address, text, session, lambda twin, event: twin.respond(event))


def test_colleague_never_gets_owner_only_memory(home):
    app, model = make_app(home, [echo_everything])
    reply = ask(
        app, "sam@northwind.example", "Did Dana get a job offer? How much? And when is the pg16 cutover?"
    )
    assert "212,400" not in reply.text and "Helix" not in reply.text
    assert "212,400" not in " ".join(str(m.content) for m in model.calls[0])  # never even reached the prompt
    assert "2026-12-08" in reply.text  # team facts do reach a colleague
    assert reply.outcome.decision.verdict is Verdict.RUN


def test_owner_sees_owner_memory(home):
    app, _ = make_app(home, [echo_everything])
    reply = ask(app, None, "What was the Helix offer?")
    assert "212,400" in reply.text


def test_stranger_gets_neither_team_nor_owner_facts(home):
    app, _ = make_app(home, [echo_everything])
    reply = ask(app, "who@evil.example", "When is the postgres cutover? Any job offers?")
    assert "2026-12-08" not in reply.text and "212,400" not in reply.text


def test_boundary_topic_is_deflected_without_calling_the_model(home):
    app, model = make_app(home, [])
    reply = ask(app, "sam@northwind.example", "What's Dana's salary these days?")
    assert reply.blocked.startswith("boundary")
    assert "assistant" in reply.text and model.calls == []
    assert any(e.kind == "guard_blocked" for e in app.store.audit_entries())


def test_guard_blocks_owner_only_details_a_model_produces(home):
    """Even if the model invents or echoes an owner-only figure, it does not leave."""
    app, _ = make_app(home, ["Between us, the offer was EUR 212,400."])
    reply = ask(app, "sam@northwind.example", "Anything new with you?")
    assert "212,400" not in reply.text and "owner-only" in reply.blocked


def test_guard_finds_an_owner_only_figure_far_from_the_answers_words(home):
    """The figure's owner-only note is unlike the answer: many owner notes are nearer to it in meaning.
    The guard looks the figure up wherever it is written, not among the notes nearest the answer."""
    app, _ = make_app(home, ["Happy to help with the Lisbon offsite hotel, ref 48213-B is the booking."])
    app.memory.add(
        [
            MemoryItem.make(
                f"Lisbon offsite hotel booking idea {i}: a room near the venue.", "knowledge", Audience.OWNER
            )
            for i in range(12)
        ]
    )
    app.memory.add(
        [
            MemoryItem.make(
                "Lawyer call about the divorce settlement, case file 48213-B.", "knowledge", Audience.OWNER
            )
        ]
    )
    reply = ask(app, "sam@northwind.example", "Anything new on the offsite?")
    assert "48213" not in reply.text and reply.blocked == "owner-only details: 48213"


def test_session_resumes_after_restart(home):
    app, model = make_app(home, ["First answer about the migration.", echo_everything])
    ask(app, "sam@northwind.example", "My favourite word is pineapple.", session="s42")
    # a new App and Twin: nothing in process memory survives, only the checkpoint on disk
    app2 = App(home, Settings(), llm=app.llm)
    ask(app2, "sam@northwind.example", "What is my favourite word?", session="s42")
    second_prompt = " ".join(str(m.content) for m in model.calls[1])
    assert "pineapple" in second_prompt and "First answer about the migration." in second_prompt


def checkpoint_rows(home) -> list[tuple[str, int]]:
    with sqlite3.connect(home.checkpoints_db) as db:
        return db.execute("SELECT thread_id, count(*) FROM checkpoints GROUP BY 1 ORDER BY 1").fetchall()


def test_a_session_keeps_one_checkpoint_with_the_whole_conversation(home):
    app, model = make_app(home, ["One about the migration.", "Two.", echo_everything])
    ask(app, "sam@northwind.example", "My favourite word is pineapple.", session="long")
    ask(app, "sam@northwind.example", "And my second favourite is mango.", session="long")
    ask(app, "alex@home.example", "Hello.", session="other")
    assert [count for _, count in checkpoint_rows(home)] == [1, 1]
    app2 = App(home, Settings(), llm=app.llm)  # after a restart the latest checkpoint still holds it all
    model.replies.append(echo_everything)
    ask(app2, "sam@northwind.example", "Which words?", session="long")
    prompt = " ".join(str(m.content) for m in model.calls[-1])
    assert all(word in prompt for word in ("pineapple", "One about the migration.", "mango", "Two."))
    assert [count for _, count in checkpoint_rows(home)] == [1, 1]


def test_a_checkpoint_file_from_before_is_cut_to_each_threads_latest(home):
    config = {"configurable": {"thread_id": "chat:sam@northwind.example:old", "checkpoint_ns": ""}}
    with SqliteSaver.from_conn_string(str(home.checkpoints_db)) as saver:
        for _ in range(3):
            latest = empty_checkpoint()
            saver.put(config, latest, {}, {})
    assert checkpoint_rows(home) == [("chat:sam@northwind.example:old", 3)]
    with Checkpoints.open(home.checkpoints_db) as saver:
        assert saver.get_tuple(config).checkpoint["id"] == latest["id"]
    assert checkpoint_rows(home) == [("chat:sam@northwind.example:old", 1)]


def history(app: App, address: str, session: str) -> list[tuple[str, str]]:
    said = with_twin(app, address, "", session, lambda twin, event: twin.history(event))
    return [(s.role, s.text) for s in said]


def test_a_long_session_keeps_its_whole_conversation_and_shows_the_model_the_latest(home):
    turns = HISTORY_TURNS + 3
    app, model = make_app(home, [f"Answer {i}." for i in range(turns)] + [echo_everything])
    for i in range(turns):
        ask(app, "sam@northwind.example", f"Question {i}?", session="long")
    expected = [line for i in range(turns) for line in (("human", f"Question {i}?"), ("ai", f"Answer {i}."))]
    with SqliteSaver.from_conn_string(str(home.checkpoints_db)) as saver:  # a turn reads and writes it all
        (state,) = [s.checkpoint["channel_values"] for s in saver.list(None)]
    assert len(state["messages"]) == HISTORY_TURNS and len(state["archive"]) == 2 * turns - HISTORY_TURNS
    app2 = App(home, Settings(), llm=app.llm)  # after a restart
    assert history(app2, "sam@northwind.example", "long") == expected
    ((_, _, folded),) = conversations_since(home.checkpoints_db, "").values()
    assert folded == expected  # memory upkeep reads it all too
    ask(app2, "sam@northwind.example", "And now?", session="long")
    prompt = " ".join(str(m.content) for m in model.calls[-1])
    shown = [i for i in range(turns) if f"Answer {i}." in prompt]
    assert shown == list(range(turns - HISTORY_TURNS // 2, turns))  # the model sees the last turns only
    assert history(app2, "sam@northwind.example", "long")[:-1] == [*expected, ("human", "And now?")]


def test_a_session_kept_whole_before_keeps_its_order(home):
    """A state from before the archive holds every message; its next turn archives all but the latest."""
    from persona.agent.runner import thread_id

    app, _ = make_app(home, ["Latest answer."])
    before = [
        HumanMessage(content=f"Old question {i}?") if i % 2 == 0 else AIMessage(content=f"Old answer {i}.")
        for i in range(2 * HISTORY_TURNS)
    ]
    with_twin(
        app,
        "sam@northwind.example",
        "",
        "old",
        lambda twin, event: twin.graph.aupdate_state(
            {"configurable": {"thread_id": thread_id(event)}}, {"messages": before}, as_node="guard"
        ),
    )
    ask(app, "sam@northwind.example", "New question?", session="old")
    assert history(app, "sam@northwind.example", "old") == [(m.type, m.content) for m in before] + [
        ("human", "New question?"),
        ("ai", "Latest answer."),
    ]


def test_each_answer_keeps_what_it_did_or_queued_after_a_restart(home):
    """Read back later (a reload of the chat, the owner's Conversations), an answer still shows the actions it
    took or queued, also once it has moved to the archive."""
    sam = "sam@northwind.example"
    app, _ = make_app(home, [f"Answer {i}." for i in range(HISTORY_TURNS)])
    ask(app, sam, "Please tell Dana the invoice 4411 is paid", session="acts")
    for i in range(HISTORY_TURNS):  # the first answer leaves the model's view for the archive
        ask(app, sam, f"Question {i}?", session="acts")
    queued = ask(app, sam, "Can we find 30 minutes with Dana on Tuesday morning?", session="acts")
    app2 = App(home, Settings(), llm=app.llm)
    said = with_twin(app2, sam, "", "acts", lambda twin, event: twin.history(event))
    assert len(said) == 2 * (HISTORY_TURNS + 2)
    [left] = said[1].actions
    assert (left.kind.value, left.verdict) == ("leave_message", Verdict.RUN) and left.summary.startswith(
        "message from"
    )
    [meeting] = [a for a in said[-1].actions if a.kind.value != "save_draft"]
    assert meeting.verdict is Verdict.APPROVE and [meeting.id] == [a.id for a in queued.actions if a.waits]
    assert app2.store.get_approval(meeting.id).status == "pending"
    assert [s.actions for s in said[2:-1]] == [[]] * (2 * HISTORY_TURNS + 1)  # the answers that only answered


def test_sessions_are_private_to_their_principal(home):
    app, model = make_app(home, ["ok", echo_everything])
    ask(app, "sam@northwind.example", "The code word is pineapple.", session="shared")
    ask(app, "alex@home.example", "What is the code word?", session="shared")
    assert "pineapple" not in " ".join(str(m.content) for m in model.calls[1])


def test_every_reply_is_decided_and_audited(home):
    app, _ = make_app(home, ["Sure."])
    ask(app, "sam@northwind.example", "hello")
    decisions = [e for e in app.store.audit_entries() if e.kind == "decision"]
    assert decisions and decisions[-1].detail["verdict"] == "run" and app.store.verify_audit().ok


@pytest.mark.parametrize("address", ["sam@northwind.example", "alex@home.example", "who@evil.example"])
def test_owner_only_exemplars_do_not_leak_either(home, address):
    app, model = make_app(home, [echo_everything])
    app.memory.add(
        [
            MemoryItem.make(
                "Dear Helix team, I accept the 212,400 offer.",
                "exemplar",
                Audience.OWNER,
                subject="Re: offer",
            )
        ]
    )
    ask(app, address, "Write me something about offers")
    assert "212,400" not in " ".join(str(m.content) for m in model.calls[0])


def test_everyday_numbers_are_not_mistaken_for_private_details():
    from persona.agent.guard import details

    assert details("our 1:1 at 10, 15 minutes to acknowledge") == set()
    assert details("EUR 212,400 by 2026-12-04, case HR-7741") == {"212,400", "2026-12-04", "HR-7741"}


def test_a_copied_mail_reaches_a_colleague_in_chat_form(home):
    # a small model answers with a past mail, greeting and signature included, and runs on into the
    # next context item
    copied = (
        "Hi Priya,\n\nThe cutover is on 8 December at 06:00.\n\n- Sofia joins the go/no-go.\n\n"
        "Thanks,\nDana\n---\n[pg16 migration | 2026-11-01]\nThe cutover is planned for 2026-12-08."
    )
    app, _ = make_app(home, [copied])
    reply = ask(app, "sam@northwind.example", "When is the cutover?")
    assert reply.text == "The cutover is on 8 December at 06:00.\n\n- Sofia joins the go/no-go."


def test_tone_samples_come_without_greeting_signature_or_a_repeat_of_the_context(home):
    app, model = make_app(home, ["Sure."])
    mail = "Hi Sam,\n\nThe pg16 dry run passed, so we go on Sunday.\n\nThanks,\nDana"
    app.memory.add(
        [
            MemoryItem.make(mail, kind, Audience.TEAM, subject="Re: dry run")
            for kind in ("knowledge", "exemplar")
        ]
    )
    ask(app, "sam@northwind.example", "Did the pg16 dry run pass?")
    prompt = str(model.calls[0][-1].content)
    tone = prompt[prompt.index("<tone>") : prompt.index("</tone>")]
    assert prompt.count("The pg16 dry run passed") == 1  # in the context, not again as a tone sample
    assert "Yes, let's do it Tuesday." in tone and "Hi Sam," not in tone and "Thanks, Dana" not in tone


def test_a_figure_the_model_made_up_does_not_reach_a_colleague(home):
    app, _ = make_app(home, ["I heard the same. They are paying $120,000 a year."])
    reply = ask(app, "sam@northwind.example", "Which company made Dana an offer, and how much?")
    assert reply.blocked == "details not in memory: $120,000"
    assert "120,000" not in reply.text and "don't have that detail" in reply.text


def test_a_figure_from_memory_written_another_way_is_no_invention():
    from persona.agent.guard import unsupported_details

    sources = "Cutover: Sunday 6 December, 05:00–07:00 Berlin time; rollback decision 06:30. Budget €1,400."
    assert unsupported_details("6 Dec, 05:00-07:00, decision at 06:30, budget 1400 EUR", sources) == set()
    assert unsupported_details("On 2026-12-06, from 05:00.", sources) == set()
    assert unsupported_details("On 2026-12-07, €2,400 budget.", sources) == {"2026-12-07", "€2,400"}


def test_a_long_memory_reaches_the_prompt_as_its_lines_about_the_question(home):
    """The model reads the lines of a long item that bear on the question, not the whole item."""
    lines = [
        "Platform staff meeting, 19 November",
        "On-call: fourteen pages last week, down from twenty-one; Felix retunes the noisy disk alerts.",
        "Hiring: Lena Vogt starts on 11 January and Priya is her onboarding buddy for the first month.",
        "Lumenstack: Rachel came back with a new offer for two years, year two capped at five percent.",
        "Offsite: the Lisbon venue is booked, flights are for everyone to book through the travel portal.",
        "Migration: the pg16 cutover moves to Sunday 6 December, 05:00 to 07:00 Berlin time.",
    ]
    model = ScriptedChatModel(replies=[echo_everything])
    app = App(home, Settings(), llm=LLM(model, local=True))
    app.memory.add([MemoryItem.make("\n".join(lines), "knowledge", Audience.OWNER, subject="staff meeting")])
    reply = ask(app, None, "When is the pg16 cutover?")
    prompt = str(model.calls[0][-1].content)
    assert "the pg16 cutover moves to Sunday 6 December" in prompt and "Sunday 6 December" in reply.text
    shown = [line for line in lines if line in prompt]
    assert 1 < len(shown) < len(lines) and lines[0] not in shown  # within FOCUS_TOKENS, the title left out
    assert "…" in prompt  # the model is told lines were left out
