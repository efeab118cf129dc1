"""Every skill through the whole twin (understand -> skill -> gate -> reply) with a scripted model.

Each test checks the state after the turn (calendar, approvals, messages, memory, audit), not only the
reply, and that the reply says what the gate decided.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from agent_helpers import ALEX, KIM, NOW, OWNER, SAM, STRANGER, ZONE, audited, make_app, say, talk

from persona.events import ActionKind, Verdict
from persona.profile import Audience


def _events(app, day: int, summary: str = ""):
    start = datetime(2026, 11, day, tzinfo=ZONE) if day > 20 else datetime(2026, 12, day, tzinfo=ZONE)
    return [e for e in app.calendar.events(start, start + timedelta(days=1)) if summary in e.summary]


def _compose(subject: str, body: str):
    return lambda messages: json.dumps({"subject": subject, "body": body})


# --- calendar, read ------------------------------------------------------------------------------
def test_agenda_lists_the_days_real_events_without_a_model_call(agent_home):
    app, model = make_app(agent_home)
    reply = say(app, None, "What's on my calendar tomorrow?")
    assert reply.skill == "agenda" and model.calls == []
    assert "Tuesday 1 December" in reply.text
    assert (
        "09:30–09:45 Team stand-up" in reply.text
        and "11:00–11:30 1:1 Dana / Sam (with Sam Okafor)" in reply.text
    )
    assert "Budget sync" not in reply.text and reply.actions == []


def test_agenda_finds_the_next_meeting_with_a_person(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, None, "When is my next 1:1 with Sam?")
    assert reply.text.startswith("“1:1 Dana / Sam” on Tuesday 1 December, 11:00–11:30")


def test_free_time_in_a_window_and_at_one_time(agent_home):
    app, _ = make_app(agent_home)
    wednesday = say(app, None, "When am I free on Wednesday afternoon?")
    assert "12:00–15:00" in wednesday.text and "16:00–17:30" in wednesday.text  # the dentist is 15:00-16:00
    busy = say(app, None, "Am I free on Wednesday at 3pm?")
    assert busy.text.startswith("No:") and "Dentist" in busy.text
    free = say(app, None, "Am I free tomorrow at 2pm?")
    assert free.text.startswith("Yes:")


# --- calendar, changed by the owner ------------------------------------------------------------
def test_booking_creates_the_event_in_a_free_slot_of_the_asked_window(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, None, "Book 30 minutes with Sam next Tuesday afternoon to go over the rollback plan.")
    [done] = reply.actions
    assert done.kind is ActionKind.CREATE_EVENT and done.verdict is Verdict.RUN
    [event] = _events(app, 8, "Rollback plan")
    start = event.start.astimezone(ZONE)
    assert start.date().isoformat() == "2026-12-08" and 12 <= start.hour < 18
    assert event.end - event.start == timedelta(minutes=30)
    assert [a.email for a in event.attendees] == [SAM]
    busy = [e for e in _events(app, 8) if e.uid != event.uid]
    assert not any(e.start < event.end and event.start < e.end for e in busy)
    assert reply.text.startswith("Booked “Rollback plan” on Tuesday 8 December")


def test_booking_without_a_day_asks_and_the_answer_completes_it(agent_home):
    app, _ = make_app(agent_home)
    first, second = talk(app, None, "Set up a meeting with Sam", "Thursday morning please")
    assert first.asks and "day" in first.text.lower() and first.actions == []
    [event] = _events(app, 3, "Sam")
    assert event.start.astimezone(ZONE).hour < 12 and second.actions[0].verdict is Verdict.RUN


def test_a_full_window_offers_other_times_and_an_ordinal_picks_one(agent_home):
    app, _ = make_app(agent_home)
    # Thursday 12:00-17:30 is the review workshop: the afternoon is full
    first = say(app, None, "Book an hour with Sam on Thursday afternoon")
    assert first.asks and first.actions == [] and "next free times" in first.text
    second = say(app, None, "the second one")
    [done] = second.actions
    assert done.verdict is Verdict.RUN and len(app.calendar.events(NOW, NOW + timedelta(days=14))) > 0


def test_moving_a_weekly_meeting_moves_only_that_occurrence(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, None, "Push my 1:1 with Sam to Thursday")
    [done] = reply.actions
    assert done.kind is ActionKind.MOVE_EVENT and done.verdict is Verdict.RUN
    assert _events(app, 1, "1:1") == []  # Tuesday's occurrence left
    [moved] = _events(app, 3, "1:1")
    assert moved.start.astimezone(ZONE).hour == 11  # same clock time, Thursday is free then
    assert _events(app, 8, "1:1")  # next week's occurrence stays


def test_moving_by_a_relative_shift(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, None, "Move the budget sync 30 minutes later")
    assert reply.actions[0].verdict is Verdict.RUN
    [event] = _events(app, 4, "Budget")
    assert event.start.astimezone(ZONE).strftime("%H:%M") == "10:30"


def test_cancelling_a_named_meeting_runs_and_keeps_it_stored_as_cancelled(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, None, "Cancel the budget sync on Friday")
    [done] = reply.actions
    assert done.kind is ActionKind.CANCEL_EVENT and done.verdict is Verdict.RUN
    assert [
        e.status.value for e in app.calendar.events(NOW, NOW + timedelta(days=7)) if e.uid == "budget@test"
    ] == ["CANCELLED"]
    assert reply.text.startswith("Cancelled “Budget sync”")


def test_an_unclear_meeting_is_asked_about_not_guessed(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, None, "Cancel my meeting")
    assert reply.actions == [] and (reply.asks or "couldn't find" in reply.text)
    assert audited(app, "cancel_event") == []


# --- mail ------------------------------------------------------------------------------------
def test_a_mail_the_owner_asks_for_is_drafted_and_waits_for_approval(agent_home):
    app, model = make_app(
        agent_home, [_compose("Q2 numbers", "Hi Sam,\n\nCould you send me the Q2 numbers?\n\nThanks,\nDana")]
    )
    reply = say(app, None, "Send Sam a note asking for the Q2 numbers")
    kinds = {d.kind: d for d in reply.actions}
    assert kinds[ActionKind.SAVE_DRAFT].verdict is Verdict.RUN
    send = kinds[ActionKind.SEND_MAIL]
    assert send.verdict is Verdict.APPROVE
    [waiting] = app.store.approvals("pending")
    assert waiting.action.targets == [SAM] and "Q2 numbers" in waiting.action.payload["body"]
    assert "waits for your approval" in reply.text and "Q2 numbers" in reply.text
    assert "asking for the Q2 numbers" in model.calls[0][-1].content  # the owner's words, as an instruction
    assert list((agent_home.mail_dir / ".Drafts" / "new").iterdir()) or list(
        (agent_home.mail_dir / ".Drafts" / "cur").iterdir()
    )


def test_a_mail_an_owner_rule_allows_is_sent_at_once(agent_home):
    app, _ = make_app(agent_home, [_compose("Late", "Hi Alex,\n\nI'm running late tonight.\n\nDana")])
    reply = say(app, None, "Tell Alex I'm running late tonight")
    send = next(d for d in reply.actions if d.kind is ActionKind.SEND_MAIL)
    assert send.verdict is Verdict.RUN and reply.text.startswith("Sent to Alex Reyes")
    assert list((agent_home.mail_dir / ".Sent" / "cur").iterdir()) or list(
        (agent_home.mail_dir / ".Sent" / "new").iterdir()
    )


def test_a_draft_that_adds_a_date_nobody_gave_is_written_again(agent_home):
    app, model = make_app(
        agent_home,
        [
            _compose("Form", "Hi Sam,\n\nWe can expect the countersigned form by 15 December.\n\nDana"),
            _compose("Form", "Hi Sam,\n\nCould you send the countersigned form?\n\nDana"),
        ],
    )
    say(app, None, "Email Sam asking for the countersigned form")
    [waiting] = app.store.approvals("pending")
    assert "15 December" not in waiting.action.payload["body"] and len(model.calls) == 2
    assert "15 December" in model.calls[1][-1].content  # the model was told what was wrong


def test_replying_to_a_handled_mail_threads_it(agent_home):
    from persona.channels.email.base import IncomingMail
    from persona.skills.mailbox import MailState

    incoming = IncomingMail(
        key="k1",
        message_id="<q@northwind.example>",
        thread_id="t",
        from_addr=SAM,
        from_name="Sam Okafor",
        subject="On-call swap",
        body="Can we swap on-call next week?",
    )
    app, _ = make_app(agent_home, [_compose("Re: On-call swap", "Hi Sam,\n\nYes, let's swap.\n\nDana")])
    app.store.ledger_set(
        "mail:<q@northwind.example>",
        "done",
        MailState(sender=SAM, subject="On-call swap", snippet=incoming.body, mail=incoming).model_dump_json(),
    )
    say(app, None, "Reply to Sam's mail about the on-call swap saying yes")
    [waiting] = app.store.approvals("pending")
    payload = waiting.action.payload
    assert payload["in_reply_to"] == "<q@northwind.example>" and payload["subject"] == "Re: On-call swap"
    assert waiting.action.targets == [SAM]


def test_forwarding_always_waits_for_the_owner(agent_home):
    from persona.skills.mailbox import MailState

    app, _ = make_app(agent_home)
    app.store.ledger_set(
        "mail:<inv@vendor.example>",
        "done",
        MailState(sender=KIM, subject="Invoice 4411", snippet="Please find the invoice.").model_dump_json(),
    )
    reply = say(app, None, "Forward Kim's invoice mail to Sam")
    send = next(d for d in reply.actions if d.kind is ActionKind.FORWARD_MAIL)
    assert send.verdict is Verdict.APPROVE
    [waiting] = app.store.approvals("pending")
    assert waiting.action.targets == [SAM] and waiting.action.payload["subject"] == "Fwd: Invoice 4411"


# --- approvals by talking --------------------------------------------------------------------
def test_approving_by_talking_sends_the_right_item(agent_home):
    app, _ = make_app(
        agent_home,
        [
            _compose("Q2", "Hi Sam,\n\nThe Q2 numbers, please.\n\nDana"),
            _compose("Offsite", "Hi Kim,\n\nSee you at the offsite.\n\nDana"),
        ],
    )
    talk(
        app,
        None,
        "Send Sam a note asking for the Q2 numbers",
        "Email Kim that I'll see her at the offsite",
        session="drafting",
    )
    listed = say(app, None, "What's waiting for my approval?")
    assert "2 items wait" in listed.text
    approved = say(app, None, "Approve the mail to Sam")
    assert [a.id for a in app.store.approvals("executed")] == [approved.actions[0].id]
    assert app.store.approvals("executed")[0].action.targets == [SAM]
    rejected = say(app, None, "Reject the mail to Kim")
    assert rejected.actions and app.store.approvals("rejected")[0].action.targets == [KIM]
    assert app.store.approvals("pending") == []


def test_send_it_approves_what_this_conversation_just_queued(agent_home):
    app, _ = make_app(agent_home, [_compose("Q2", "Hi Sam,\n\nThe Q2 numbers, please.\n\nDana")])
    _, sent = talk(app, None, "Send Sam a note asking for the Q2 numbers", "yes, send it")
    assert sent.skill == "approvals" and app.store.approvals("executed")
    assert "Approved and done" in sent.text


def test_editing_a_waiting_reply_keeps_it_waiting_with_the_new_text(agent_home):
    app, _ = make_app(agent_home, [_compose("Q2", "Hi Sam,\n\nThe Q2 numbers, please.\n\nDana")])
    say(app, None, "Send Sam a note asking for the Q2 numbers")
    say(app, None, "Change the draft to Sam to say: Hi Sam, could I have the Q2 numbers by Friday? Dana")
    [waiting] = app.store.approvals("pending")
    assert waiting.effective_action.payload["body"].startswith(
        "Hi Sam, could I have the Q2 numbers by Friday?"
    )


# --- notes, messages, brief, triage --------------------------------------------------------------
def test_remember_then_recall(agent_home):
    app, model = make_app(agent_home, [lambda m: "The offsite hotel is Hotel Avenida."])
    noted = say(app, None, "Remember that the offsite hotel is Hotel Avenida")
    assert noted.actions[0].kind is ActionKind.REMEMBER and noted.actions[0].verdict is Verdict.RUN
    hits = app.memory.search("offsite hotel", [Audience.OWNER], k=1)
    assert "Hotel Avenida" in hits[0].text and hits[0].metadata["audience"] == "owner"
    answer = say(app, None, "Which hotel is the offsite in?", session="later")
    assert answer.skill == "recall" and "Hotel Avenida" in model.calls[-1][-1].content


def test_a_note_for_the_team_reaches_colleagues_and_an_owner_note_does_not(agent_home):
    app, model = make_app(agent_home, [lambda m: m[-1].content])
    say(app, None, "Note for the team: the release freeze starts on 14 December")
    say(app, None, "Remember that my bonus target is 40k")
    say(app, SAM, "When does the release freeze start?")
    shown = model.calls[-1][-1].content
    assert "release freeze starts on 14 December" in shown and "40k" not in shown


def test_a_colleague_leaves_a_message_the_owner_reads_once(agent_home):
    app, _ = make_app(agent_home)
    left = say(app, SAM, "Please let Dana know the vendor review moved to Thursday")
    assert left.actions[0].kind is ActionKind.LEAVE_MESSAGE and "passed your message on" in left.text
    [message] = app.store.messages()
    assert message.sender == SAM and "vendor review moved to Thursday" in message.text
    read = say(app, None, "Any messages for me?")
    assert "Sam Okafor" in read.text and "vendor review moved to Thursday" in read.text
    assert app.store.messages(unread_only=True) == []


def test_brief_on_demand_lists_todays_meetings_and_messages(agent_home):
    app, _ = make_app(agent_home)
    say(app, STRANGER, "Can you tell Dana that the parcel arrived?")
    reply = say(app, None, "Give me my brief")
    assert reply.skill == "brief" and "Team stand-up" in reply.text and "parcel arrived" in reply.text


def test_a_triage_correction_changes_how_that_senders_mail_is_sorted(agent_home):
    from persona.channels.email.base import IncomingMail
    from persona.skills.triage import corrections, rule_triage

    app, _ = make_app(agent_home)
    reply = say(app, None, "Mail from digest@weekly.example is not important")
    assert reply.actions[0].kind is ActionKind.CORRECT_TRIAGE
    mail = IncomingMail(
        key="k",
        message_id="<n@weekly.example>",
        thread_id="t",
        from_addr="digest@weekly.example",
        subject="This week",
        body="news",
    )
    assert rule_triage(app.profile, corrections(app.store), mail).label.value == "ignore"


# --- others ask for the owner's time -----------------------------------------------------------
def test_a_colleague_request_queues_a_tentative_event_in_a_free_slot(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, SAM, "Can we find 30 minutes with Dana on Thursday to review the rollback plan?")
    [done] = reply.actions
    assert done.kind is ActionKind.CREATE_EVENT and done.verdict is Verdict.APPROVE
    [waiting] = app.store.approvals("pending")
    payload = waiting.action.payload
    start = datetime.fromisoformat(payload["start"]).astimezone(ZONE)
    assert payload["status"] == "TENTATIVE" and waiting.action.targets == [SAM]
    assert start.date().isoformat() == "2026-12-03" and start.hour < 12  # the afternoon is the workshop
    assert _events(app, 3, "Rollback") == []  # nothing booked before the owner says so
    assert "not booked until Dana approves" in reply.text and f"{start:%H:%M}" in reply.text


def test_a_colleague_sees_free_time_and_private_events_only_as_busy(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, SAM, "Is Dana free on Wednesday?")
    assert reply.skill == "availability" and reply.actions == []
    assert "Dentist" not in reply.text and "15:00–16:00 busy" in reply.text


def test_a_stranger_asking_for_a_meeting_gets_no_time_and_the_owner_decides(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, STRANGER, "I'd like to schedule a call with Dana next week about a partnership")
    [done] = reply.actions
    assert done.verdict is Verdict.APPROVE and not any(ch.isdigit() for ch in reply.text)
    assert "Nothing is arranged yet" in reply.text


def test_family_can_ask_for_time_too(agent_home):
    app, _ = make_app(agent_home)
    reply = say(app, ALEX, "Could we grab lunch together on Friday?")
    assert reply.actions and reply.actions[0].verdict is Verdict.APPROVE


def test_the_owner_is_never_an_attendee_of_their_own_meeting(agent_home):
    app, _ = make_app(agent_home)
    say(app, SAM, "Can we meet with Dana tomorrow morning for 15 minutes?")
    [waiting] = app.store.approvals("pending")
    assert OWNER not in waiting.action.targets


def test_cancelling_by_a_person_alone_asks_which_when_several_meetings_have_them(agent_home):
    app, _ = make_app(agent_home)
    asked = say(app, None, "Cancel my meeting with Sam")  # the 1:1 and the budget sync both have Sam
    assert (
        asked.asks and asked.actions == [] and "1:1 Dana / Sam" in asked.text and "Budget sync" in asked.text
    )
    picked = say(app, None, "the budget one")
    assert [a.kind for a in picked.actions] == [ActionKind.CANCEL_EVENT] and "Budget sync" in picked.text
    named = say(app, None, "Cancel my 1:1 with Sam tomorrow", session="other")
    assert named.actions and "1:1 Dana / Sam" in named.text


def test_an_owner_change_a_rule_holds_back_says_so_in_plain_words(agent_home):
    """A booking whose attendee came from someone else's text waits; the reply says it waits for you."""
    from persona.events import Principal, Provenance, Source
    from persona.skills import meetings
    from persona.skills.turn import Turn

    app, _ = make_app(agent_home)
    turn = Turn(
        app=app,
        principal=Principal.owner(app.profile),
        provenance=Provenance(source=Source.KNOWN_PERSON),
        text="Book 30 minutes with Sam on Friday afternoon",
        event_id="e",
        channel="chat",
        session="s",
        now=NOW,
    )
    outcome = meetings.book_meeting(turn, meetings.BookArgs(people=["Sam"]))
    assert outcome.done[0].verdict is Verdict.APPROVE
    assert "it waits for your approval" in outcome.reply and "your's" not in outcome.reply
