"""A reply goes to the mail the owner means (by person, by words of its subject), never to another:
when no mail or several fit, the owner is asked which."""

from __future__ import annotations

import json
from datetime import datetime

from agent_helpers import KIM, SAM, make_app, say

from persona.channels.email.base import IncomingMail
from persona.home import Home
from persona.skills.mailbox import MailState

REPLY = json.dumps({"subject": "Re: Invoice 4411", "body": "Hi Kim,\n\nPaid.\n\nDana"})


def _handled(app, key: str, sender: str, subject: str, snippet: str, date: str) -> None:
    mail = IncomingMail(
        key=key,
        message_id=f"<{key}@x.example>",
        thread_id=key,
        from_addr=sender,
        subject=subject,
        body=snippet,
        date=datetime.fromisoformat(date),
    )
    state = MailState(sender=sender, subject=subject, snippet=snippet, label="respond", mail=mail)
    app.store.ledger_set(f"mail:<{key}@x.example>", "done", state.model_dump_json())


def _inbox(app) -> None:
    _handled(
        app,
        "rollback",
        SAM,
        "Rollback on Sunday",
        "Hi Dana, if we roll back at 06:30, what exactly is my job?",
        "2026-11-29T20:10:00+01:00",
    )
    _handled(
        app,
        "invoice",
        KIM,
        "Invoice 4411",
        "Please find the invoice for November.",
        "2026-11-28T09:00:00+01:00",
    )


def test_the_question_from_the_report_drafts_nothing(agent_home: Home):
    app, _ = make_app(agent_home, ["I don't see a deadline for it in what I know."])
    _inbox(app)
    reply = say(app, None, "By when do I have to reply to the job offer?")
    assert reply.skill == "recall" and reply.actions == [] and app.store.approvals("pending") == []


def test_a_reply_to_a_mail_no_one_sent_asks_which_instead_of_drafting_to_someone_else(agent_home: Home):
    app, _ = make_app(
        agent_home, [json.dumps({"subject": "Re: Invoice 4411", "body": "Hi Kim,\n\nPaid.\n\nDana"})]
    )
    _inbox(app)
    asked = say(app, None, "Reply to the job offer saying I'm not interested")
    assert asked.actions == [] and app.store.approvals("pending") == [] and asked.asks
    assert "Which one" in asked.text and "Invoice 4411" in asked.text and "Rollback on Sunday" in asked.text
    say(app, None, "the invoice one")  # the owner says which: that mail, and no other, is answered
    [waiting] = app.store.approvals("pending")
    assert waiting.action.targets == [KIM] and waiting.action.payload["in_reply_to"] == "<invoice@x.example>"


def test_a_reply_by_its_subject_words_finds_that_mail_without_a_name(agent_home: Home):
    app, _ = make_app(
        agent_home, [json.dumps({"subject": "Re: Invoice 4411", "body": "Hi Kim,\n\nPaid.\n\nDana"})]
    )
    _inbox(app)
    say(app, None, "Reply to the invoice mail saying it's paid")
    [waiting] = app.store.approvals("pending")
    assert waiting.action.targets == [KIM]
