"""The owner's desk in headless Chromium over uvicorn on loopback: every view fits a phone and a laptop and
passes axe; the owner's daily path works by mouse and keyboard. Screenshots: test-artifacts/."""

from __future__ import annotations

import json
import mailbox
import uuid
from datetime import datetime, timedelta

import pytest
from browser_helpers import ARTIFACTS, DESKTOP, PHONE, accessibility_problems, fits, signed_in
from scripted_mail import inbox_pass
from server_helpers import held_for_owner
from test_executors import MAIL as MAIL_PAYLOAD

from persona.agent.inbox import process_inbox
from persona.channels.calendar.delivery import tentative_event_payload
from persona.channels.email.delivery import open_email_channel
from persona.events import Action, ActionKind
from persona.server.routes.pages import DESK_VIEWS

pytestmark = pytest.mark.integration


def _reply_to_sam(app, body: str = "Sure, 06:00 works.") -> Action:
    """A mail reply the policy holds for the owner's approval."""
    payload = {
        **MAIL_PAYLOAD,
        "message_id": f"<{uuid.uuid4().hex}@northwind.example>",
        "in_reply_to": "",
        "subject": "Re: cutover",
        "body": body,
        "draft_body": body,
    }
    return held_for_owner(
        app, "sam@northwind.example", ActionKind.SEND_MAIL, payload, "reply to Sam about the cutover"
    )


def test_a_message_left_by_a_colleague_waits_on_today_until_read(site):
    base, app, _, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["colleague_b"], "/chat")
    page.fill("#message", "Please tell Dana the invoice <b>4411</b> is paid")
    page.click("#send-button")
    line = page.locator(".action.run")
    line.wait_for()
    assert line.inner_text().startswith("✓ Done: message from Lee Park")
    assert page.locator(".action b").count() == 0 and "<b>4411</b>" in line.inner_text()  # text, never markup
    assert errors == []
    page.close()
    [left] = app.store.messages(unread_only=True)

    today, errors = signed_in(browser, base, tokens["owner"], "/today")
    for_you = today.locator("#for-you")
    item = for_you.locator(f".message[data-id='{left.id}']")
    assert "Lee Park" in item.inner_text() and "via chat" in item.inner_text()
    assert item.locator(".words").inner_text() == left.text and "<b>4411</b>" in left.text
    assert item.locator(".words b").count() == 0
    assert not for_you.locator("#no-messages").is_visible()
    assert today.locator("section").first.get_attribute("id") == "for-you"  # at the top
    today.screenshot(path=str(ARTIFACTS / "today-owner-phone.png"), full_page=True)
    assert fits(today)
    item.locator("button.mark-read").click()
    item.wait_for(state="detached")
    assert for_you.locator("#no-messages").inner_text() == "No new messages."
    assert app.store.messages(unread_only=True) == [] and app.store.messages()[0].read
    today.reload()
    assert for_you.locator(".message").count() == 0 and for_you.locator("#no-messages").is_visible()
    assert errors == []
    today.close()


def _owner_chat_with_an_action(page, model) -> str:
    """The owner asks the twin for a mail in the chat: the conversation's transcript path."""
    note = {"subject": "Q2 numbers", "body": "Hi Sam,\n\nCould you send me the Q2 numbers?\n\nDana"}
    model.replies.append(lambda messages: json.dumps(note))
    page.fill("#message", "Send Sam a note asking for the Q2 numbers")
    page.click("#send-button")
    page.locator(".action.needs_approval").last.wait_for()
    return f"/conversations/{page.get_attribute('#session-label', 'data-session')}?person=dana%40northwind.example"


def _problems(page, path: str, viewport: dict[str, int]) -> list[str]:
    """What is wrong with the page as it stands: wider than the viewport, axe's serious and critical findings."""
    found = ([] if fits(page) else ["wider than the viewport"]) + accessibility_problems(page)
    name = (
        "transcript" if "?person=" in path else path.strip("/").replace("?show=", "-").replace("/", "-")[:40]
    )
    page.screenshot(path=str(ARTIFACTS / f"desk-{name}-{viewport['width']}.png"), full_page=True)
    return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_every_view_of_the_desk_fits_and_passes_axe(site, viewport):
    base, app, model, tokens, browser = site
    reply, meeting = _reply_to_sam(app), _meeting_with_sam(app)
    page, errors = signed_in(browser, base, tokens["owner"], "/chat", viewport)
    transcript = _owner_chat_with_an_action(page, model)
    views = [path for path, _ in DESK_VIEWS] + [
        "/approvals?show=history",
        f"/approvals/{reply.id}",
        f"/approvals/{meeting.id}",
        "/approvals/no-such-id",
        transcript,
        "/persona",
    ]
    problems: dict[str, list[str]] = {}
    for path in views:
        page.goto(f"{base}{path}")
        assert page.url == f"{base}{path}", f"{path} sent the owner elsewhere"
        assert page.locator("nav a[aria-current=page]").count() == (0 if path == "/persona" else 1)
        if path == transcript:  # the answer's queued mail under it, a link to its approval
            assert page.locator(".turn.ai .action.needs_approval a").count() == 1
        if found := _problems(page, path, viewport):
            problems[path] = found
    assert problems == {}
    assert errors == []
    page.close()
    signed_out = browser.new_page(viewport=viewport)
    signed_out.goto(f"{base}/login")
    assert _problems(signed_out, "/login", viewport) == []
    signed_out.close()
    colleague, errors = signed_in(
        browser, base, tokens["colleague_a"], "/chat", viewport
    )  # no desk, no buttons
    assert _problems(colleague, "/chat-colleague", viewport) == [] and errors == []
    colleague.close()


MAIL = b"""From: Sam Okafor <sam@northwind.example>
To: Dana Reyes <dana@northwind.example>
Subject: Cutover rehearsal
Message-ID: <rehearsal-1@northwind.example>
Date: Mon, 07 Dec 2026 08:10:00 +0100

Hi Dana,

Can we do the cutover rehearsal on Thursday at 10? I'll bring the runbook.

Sam
"""
DRAFT = "Hi Sam,\n\nThursday at 10 works for me.\n\nBest,\nDana"


_inbox_model = inbox_pass(DRAFT)  # one inbox pass: Sam's mail answered with DRAFT


def _draft_reply_through_the_inbox(app, model) -> str:
    """Sam's mail into the home's Maildir, one inbox pass: the id of the reply waiting for approval."""
    mailbox.Maildir(app.home.mail_dir, create=True).add(MAIL)
    model.replies.extend([_inbox_model] * 20)
    channel = open_email_channel(app)
    try:
        process_inbox(app, channel)
    finally:
        channel.stop()
        model.replies.clear()
    [waiting] = [a for a in app.store.approvals("pending") if a.action.payload.get("in_reply_to")]
    return waiting.id


def test_the_owner_opens_edits_and_approves_a_reply_from_today(site):
    base, app, model, tokens, browser = site
    approval_id = _draft_reply_through_the_inbox(app, model)
    page, errors = signed_in(browser, base, tokens["owner"], "/today", DESKTOP)
    page.locator(f"#decide a[href='/approvals/{approval_id}']").click()
    page.wait_for_url(f"{base}/approvals/{approval_id}")
    assert "I'll bring the runbook." in page.inner_text("#original-text")  # Sam's mail beside the draft
    assert "Cutover rehearsal" in page.inner_text("#original")
    assert page.inner_text("#reason")  # why the policy asks
    assert page.locator("#proposed dt", has_text="Targets from").count() == 1  # provenance
    body = page.locator("textarea[name=body]")
    assert body.input_value().startswith("Hi Sam,")
    assert page.locator("[name=draft_body], [name=message_id], [name=in_reply_to]").count() == 0
    edited = body.input_value().replace("works for me.", "works for me. I'll book the war room.")
    body.fill(edited)
    badge = page.locator("nav a[href='/approvals'] .count")
    assert badge.inner_text() == str(app.store.count_approvals("pending"))
    page.click("#approve")
    page.locator("#status", has_text="executed").wait_for()
    left = app.store.count_approvals("pending")
    assert badge.inner_text() == str(left) if left else badge.count() == 0  # one less, without a reload
    page.screenshot(path=str(ARTIFACTS / "desk-approval-executed.png"), full_page=True)
    approval = app.store.get_approval(approval_id)
    assert approval.status == "executed" and approval.decided_by == "dana@northwind.example"
    [sent] = [
        m
        for m in mailbox.Maildir(app.home.mail_dir / ".Sent", create=False)
        if m["In-Reply-To"] == "<rehearsal-1@northwind.example>"
    ]
    assert "I'll book the war room." in sent.get_payload(decode=True).decode()

    page.goto(f"{base}/approvals?show=history")
    row = page.locator(f".approval[data-id='{approval_id}']")
    assert "executed" in row.inner_text() and "edited" in row.inner_text()
    assert errors == []
    page.close()


def _meeting_with_sam(app) -> Action:
    """A meeting Sam asked for, held for the owner's approval, with another free time to choose instead."""
    start = (app.clock() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    other = start + timedelta(hours=5)
    payload = tentative_event_payload(
        "Rehearsal",
        start.isoformat(),
        (start + timedelta(minutes=30)).isoformat(),
        "dana@northwind.example",
        ["sam@northwind.example"],
    )
    alternatives = [{"start": other.isoformat(), "end": (other + timedelta(minutes=30)).isoformat()}]
    return held_for_owner(
        app,
        "sam@northwind.example",
        ActionKind.CREATE_EVENT,
        payload | {"alternatives": alternatives},
        "meeting “Rehearsal” with Sam",
    )


def test_a_bad_time_edit_names_the_field_and_the_approval_stays_pending(site):
    base, app, _, tokens, browser = site
    meeting = _meeting_with_sam(app)
    page, errors = signed_in(browser, base, tokens["owner"], f"/approvals/{meeting.id}", PHONE)
    # a date a browser's picker cannot produce, as a script or an old browser might send it
    page.evaluate("document.querySelector('[name=start]').type = 'text'")
    page.fill("[name=start]", "Tuesday 15:00")
    page.keyboard.press("Enter")  # keyboard only: Enter in the form approves
    page.locator("#error-start").filter(has_text="not a date").wait_for()
    assert page.get_attribute("[name=start]", "aria-invalid") == "true"
    assert app.store.get_approval(meeting.id).status == "pending"
    assert fits(page)
    page.focus("#reject")
    page.keyboard.press("Enter")
    page.locator("#status", has_text="rejected").wait_for()
    assert app.store.get_approval(meeting.id).status == "rejected"
    assert errors == []
    page.close()


def test_the_owner_moves_a_meeting_to_another_free_time_the_solver_found(site):
    base, app, _, tokens, browser = site
    meeting = _meeting_with_sam(app)
    [other] = meeting.payload["alternatives"]
    page, errors = signed_in(browser, base, tokens["owner"], f"/approvals/{meeting.id}", DESKTOP)
    zone = app.profile.zone
    start, end = (datetime.fromisoformat(other[k]).astimezone(zone) for k in ("start", "end"))
    page.select_option("select.choice", label=f"{start:%a %-d %b %H:%M}–{end:%H:%M}")
    assert page.input_value("[name=start]") == f"{start:%Y-%m-%dT%H:%M}"  # the owner's wall clock
    page.click("#approve")
    page.locator("#status", has_text="executed").wait_for()
    approval = app.store.get_approval(meeting.id)
    moved = approval.effective_action.payload
    assert datetime.fromisoformat(moved["start"]) == datetime.fromisoformat(other["start"])
    assert datetime.fromisoformat(moved["end"]) == datetime.fromisoformat(other["end"])
    assert errors == []
    page.close()
