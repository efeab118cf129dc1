"""Against real servers on loopback: Dovecot IMAP and an SMTP server delivering into it."""

from __future__ import annotations

import json
import smtplib
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from imapclient import IMAPClient

from persona.agent.inbox import process_inbox
from persona.channels.email import EmailChannel
from persona.channels.email.delivery import executors
from persona.channels.email.errors import MailAuthFailed, MailUnreachable
from persona.channels.email.imap import ImapBackend
from persona.settings import MailSettings

pytestmark = pytest.mark.integration

REPLY = "Hi Sam,\n\nThursday at 10 works for me. I'll bring the numbers.\n\nBest,\nDana"
# the decision step's answer, asked before a reply is written
ANSWER = '{"reason": "r", "decision": "answer"}'
USERS = {"dana": "dana-secret", "sam": "sam-secret"}


@pytest.fixture
def servers(dovecot, smtp):
    imap = dovecot(USERS)
    return imap, smtp(imap, domain="northwind.example")


def _env(imap, mail) -> dict[str, str]:
    return {
        "PERSONA_MAIL_BACKEND": "imap",
        "PERSONA_MAIL_IMAP_HOST": imap.host,
        "PERSONA_MAIL_IMAP_PORT": str(imap.port),
        "PERSONA_MAIL_IMAP_SECURITY": "none",
        "PERSONA_MAIL_IMAP_USER": "dana",
        "PERSONA_MAIL_IMAP_PASSWORD": USERS["dana"],
        "PERSONA_MAIL_SMTP_HOST": mail.host,
        "PERSONA_MAIL_SMTP_PORT": str(mail.port),
        "PERSONA_MAIL_SMTP_SECURITY": "none",
        "PERSONA_MAIL_SMTP_USER": mail.user,
        "PERSONA_MAIL_SMTP_PASSWORD": mail.password,
    }


def _settings(imap, mail, **overrides):
    env = {k.removeprefix("PERSONA_MAIL_").lower(): v for k, v in _env(imap, mail).items()}
    return MailSettings(**(env | overrides))


def _send_as(mail, sender: str, data: bytes) -> None:
    with smtplib.SMTP(mail.host, mail.port) as client:
        client.login(mail.user, mail.password)
        client.sendmail(sender, ["dana@northwind.example"], data)


def _folder(imap, user: str, folder: str) -> list:
    client = IMAPClient(imap.host, imap.port, ssl=False)
    client.login(user, USERS[user])
    client.select_folder(folder, readonly=True)
    uids = client.search(["ALL"])
    found = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    client.logout()
    return [message_from_bytes(found[uid][b"BODY[]"], policy=default_policy) for uid in uids]


def test_round_trip_receive_triage_draft_approve_deliver(servers, make_app, make_mail):
    imap, mail = servers
    _send_as(
        mail,
        "sam@northwind.example",
        make_mail(
            "Sam Okafor <sam@northwind.example>",
            "Budget",
            "Can we go over it Thursday?",
            message_id="<r1@northwind.example>",
        ),
    )
    app, _ = make_app(['{"reason": "Sam asks a question", "label": "respond"}', ANSWER, REPLY])
    channel = EmailChannel(ImapBackend(_settings(imap, mail), app.store), app.profile)
    channel.start()
    try:
        report = process_inbox(app, channel)
        assert [o.label for o in report.outcomes] == ["respond"]
        [draft] = _folder(imap, "dana", "Drafts")
        assert draft["In-Reply-To"] == "<r1@northwind.example>" and draft["To"] == "sam@northwind.example"
        assert process_inbox(app, channel).outcomes == []  # the UID cursor moved on

        [pending] = app.store.approvals("pending")
        with app.gate.executors.while_open(executors(app, channel)):  # the open channel delivers the approval
            done = app.gate.approve(pending.id, by="dana@northwind.example")
        assert done.status == "executed"
    finally:
        channel.stop()
    [delivered] = [m for m in _folder(imap, "sam", "INBOX") if m["In-Reply-To"] == "<r1@northwind.example>"]
    assert (
        delivered["Subject"] == "Re: Budget"
        and delivered.get_content().replace("\r\n", "\n").strip() == REPLY
    )
    assert [m["Message-ID"] for m in _folder(imap, "dana", "Sent")] == [draft["Message-ID"]]
    assert _folder(imap, "dana", "Drafts") == []
    assert len(mail.to("sam@northwind.example")) == 1


def test_wrong_password_and_closed_port_are_one_line_errors(servers, make_app, free_port):
    imap, mail = servers
    app, _ = make_app([])
    with pytest.raises(MailAuthFailed, match="refused the login for dana"):
        ImapBackend(_settings(imap, mail, imap_password="wrong"), app.store).open()
    with pytest.raises(MailUnreachable, match="cannot reach IMAP server 127.0.0.1"):
        ImapBackend(_settings(imap, mail, imap_port=str(free_port())), app.store).open()


@pytest.mark.parametrize("step", ["after_fetched", "after_draft_saved", "after_send_submitted"])
def test_kill_and_rerun_on_imap_gives_one_draft(servers, home, make_app, make_mail, run_inbox, step):
    imap, mail = servers
    _send_as(
        mail,
        "sam@northwind.example",
        make_mail(
            "Sam Okafor <sam@northwind.example>", "Budget", "Thursday?", message_id="<c1@northwind.example>"
        ),
    )
    crashed = run_inbox(home, step, _env(imap, mail))
    assert crashed.returncode == -9, crashed.stderr
    rerun = run_inbox(home, None, _env(imap, mail))
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(run_inbox(home, None, _env(imap, mail)).stdout.splitlines()[-1])["outcomes"] == []
    assert [d["In-Reply-To"] for d in _folder(imap, "dana", "Drafts")] == ["<c1@northwind.example>"]
    app, _ = make_app([])
    assert len(app.store.approvals("pending")) == 1


def test_kill_after_smtp_send_does_not_send_twice(servers, home, make_mail, run_inbox):
    imap, mail = servers
    _send_as(
        mail,
        "alex@home.example",
        make_mail(
            "Alex Reyes <alex@home.example>", "Dinner", "Pasta tonight?", message_id="<d1@home.example>"
        ),
    )
    assert run_inbox(home, "after_mail_sent", _env(imap, mail)).returncode == -9
    assert run_inbox(home, None, _env(imap, mail)).returncode == 0
    assert len(mail.to("alex@home.example")) == 1
    assert [m["In-Reply-To"] for m in _folder(imap, "dana", "Sent")] == ["<d1@home.example>"]


def test_smtp_down_stops_the_run_and_a_later_run_sends_once(servers, make_app, make_mail, free_port):
    imap, mail = servers
    _send_as(
        mail,
        "alex@home.example",
        make_mail(
            "Alex Reyes <alex@home.example>", "Dinner", "Pasta tonight?", message_id="<e1@home.example>"
        ),
    )
    reply = "Hi Alex,\n\nPasta sounds great.\n\nDana"
    app, _ = make_app(['{"reason": "a question", "label": "respond"}', ANSWER, reply])
    down = EmailChannel(
        ImapBackend(_settings(imap, mail, smtp_port=str(free_port())), app.store), app.profile
    )
    down.start()
    report = process_inbox(app, down)
    down.stop()
    assert report.outcomes == [] and "cannot reach SMTP server" in report.stopped
    assert mail.to("alex@home.example") == []

    up = EmailChannel(ImapBackend(_settings(imap, mail), app.store), app.profile)
    up.start()
    again = process_inbox(app, up)
    up.stop()
    assert again.outcomes[0].did.startswith("reply sent")
    assert len(mail.to("alex@home.example")) == 1


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_verifies_the_server_certificate(dovecot, make_app, security):
    imap = dovecot(USERS, tls=True)
    app, _ = make_app([])
    port = imap.tls_port if security == "ssl" else imap.port
    base = {
        "backend": "imap",
        "imap_host": imap.host,
        "imap_port": port,
        "imap_security": security,
        "imap_user": "dana",
        "imap_password": USERS["dana"],
        "smtp_host": "127.0.0.1",
    }
    trusted = ImapBackend(MailSettings(**base, tls_ca_file=imap.cert), app.store)
    trusted.open()
    assert trusted.fetch_new() == []
    trusted.close()
    with pytest.raises(MailUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        ImapBackend(MailSettings(**base), app.store).open()
