"""Headless Chromium (Debian's) drives the real pages over uvicorn on loopback; screenshots: test-artifacts/."""

from __future__ import annotations

import json
import re

import pytest
from browser_helpers import ARTIFACTS, DESKTOP, PHONE, fits, left_whole, signed_in
from server_helpers import answering

pytestmark = pytest.mark.integration


def test_colleague_chats_through_an_invite_link(site):
    base, _, model, tokens, browser = site
    model.replies.extend(
        ["Hi Sam, the Postgres 16 cutover is on 8 December at 06:00 CET.", "You're welcome!"]
    )
    page = browser.new_page()
    page.goto(f"{base}/join#{tokens['colleague_a']}")
    page.wait_for_url(f"{base}/chat")
    assert "Dana's AI assistant" in page.inner_text("#notice")
    page.fill("#message", "When is the pg16 cutover?")
    page.click("#send-button")
    answer = page.locator(".msg.ai").last
    answer.filter(has_text="8 December").wait_for()
    page.wait_for_selector(".msg.ai:not(.pending)")
    assert answer.inner_text() == "Hi Sam, the Postgres 16 cutover is on 8 December at 06:00 CET."
    page.fill("#message", "Thanks!")
    page.click("#send-button")
    page.locator(".msg.ai").nth(1).filter(has_text="welcome").wait_for()
    session = page.get_attribute("#session-label", "data-session")
    assert page.inner_text("#session-label") == "· When is the pg16 cutover?"  # its title, not its id
    page.screenshot(path=str(ARTIFACTS / "chat-colleague.png"), full_page=True)
    assert "join#" not in page.url  # the token left the address bar
    # the same conversation, read back after a reload, is the one persisted server-side
    page.reload()
    page.locator(".msg").nth(3).wait_for()
    said = ["When is the pg16 cutover?", "Thanks!"]
    assert [m.inner_text() for m in page.locator(".msg").all()][::2] == said
    page.click("#new")
    assert page.locator(".msg").count() == 0 and "session=" not in page.url
    page.click(f"#sessions a[data-session='{session}']")
    page.locator(".msg").nth(3).wait_for()
    assert [m.inner_text() for m in page.locator(".msg").all()][::2] == said
    # a colleague's browser cannot open the dashboard
    page.goto(f"{base}/dashboard")
    assert page.url == f"{base}/chat"
    page.close()


def _send(page, text: str):
    """Send one message; the answer bubble once the turn is done."""
    before = page.locator(".msg.ai:not(.pending)").count()
    page.fill("#message", text)
    page.click("#send-button")
    page.locator(".msg.ai:not(.pending)").nth(before).wait_for()
    return page.locator(".msg.ai").last


def _compose(subject: str, body: str):
    """The model's answer to the mail-writing call: only the words, as JSON."""
    return lambda messages: json.dumps({"subject": subject, "body": body})


def test_owner_approves_and_rejects_what_the_twin_queued_right_in_the_chat(site):
    base, app, model, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["owner"], "/chat")
    notice = page.inner_text("#notice")
    assert "your own twin" in notice and "not with Dana" not in notice
    can = ("book, move or cancel", "write mail", "approve", "remember notes", "calendar")
    assert all(words in notice for words in can)

    model.replies.append(_compose("Q2 numbers", "Hi Sam,\n\nCould you send me the Q2 numbers?\n\nDana"))
    _send(page, "Send Sam a note asking for the Q2 numbers")
    line = page.locator(".action").last
    assert page.locator(".action").count() == 1  # the saved draft is not shown
    assert line.locator(".what").inner_text() == "Waiting for Dana's approval: mail to Sam Okafor: Q2 numbers"
    approval_id = line.get_attribute("data-id")
    assert app.store.get_approval(approval_id).status == "pending"
    line.locator("button.approve").click()
    line.locator(".result").filter(has_text="executed").wait_for()
    approval = app.store.get_approval(approval_id)
    assert approval.status == "executed" and approval.decided_by == "dana@northwind.example"
    assert "filed in .Sent" in approval.receipt  # the home's mail store: sent for real
    assert line.locator(".result").inner_text() == f"executed: {approval.receipt}"
    assert line.locator("button").count() == 0  # the result replaced the buttons

    model.replies.append(_compose("Roadmap", "Hi Lee,\n\nCould you share the roadmap draft?\n\nDana"))
    _send(page, "Send Lee a note asking for the roadmap draft")
    second = page.locator(".action").last
    assert second.locator(".what").inner_text() == "Waiting for Dana's approval: mail to Lee Park: Roadmap"
    second.locator("button.reject").click()
    second.locator(".result").filter(has_text="rejected").wait_for()
    assert app.store.get_approval(second.get_attribute("data-id")).status == "rejected"

    # a button for something decided elsewhere in the meantime shows the server's error, not a result
    model.replies.append(_compose("Offsite", "Hi Sam,\n\nCould you book the offsite venue?\n\nThanks,\nDana"))
    _send(page, "Send Sam a note asking him to book the offsite venue")
    third = page.locator(".action").last
    app.gate.reject(third.get_attribute("data-id"), by="dana@northwind.example", reason="on the dashboard")
    third.locator("button.approve").click()
    third.locator(".result.error").filter(has_text="not pending").wait_for()
    assert third.locator("button").count() == 0
    assert app.store.get_approval(third.get_attribute("data-id")).status == "rejected"

    left_whole(page, errors, "chat-owner-phone")


def test_what_each_answer_did_is_still_under_it_after_a_reload_and_the_badge_follows(site):
    base, app, model, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["owner"], "/chat")
    model.replies.append(_compose("Budget", "Hi Sam,\n\nCould you send me the budget?\n\nDana"))
    _send(page, "Send Sam a note asking for the budget")
    model.replies.append(_compose("Slides", "Hi Lee,\n\nCould you share the slides?\n\nDana"))
    _send(page, "Send Lee a note asking for the slides")
    approved, waiting = page.locator(".action").all()
    ids = [approved.get_attribute("data-id"), waiting.get_attribute("data-id")]
    badge, before = page.locator("nav a[href='/approvals'] .count"), app.store.count_approvals("pending")
    approved.locator("button.approve").click()
    approved.locator(".result").filter(has_text="executed").wait_for()
    assert badge.inner_text() == str(before - 1)  # the navigation's count: what the server counts now

    page.reload()
    lines = page.locator(".action")
    lines.nth(1).wait_for()
    assert [line.get_attribute("data-id") for line in lines.all()] == ids
    assert page.locator(".msg.ai + .actions").count() == 2  # each under the answer that queued it
    assert lines.nth(0).inner_text() == "✓ Approved and done: mail to Sam Okafor: Budget"  # what became of it
    assert (
        lines.nth(1).locator(".what").inner_text() == "Waiting for Dana's approval: mail to Lee Park: Slides"
    )
    lines.nth(1).locator("button.reject").click()
    lines.nth(1).locator(".result").filter(has_text="rejected").wait_for()
    assert app.store.get_approval(ids[1]).status == "rejected"
    left = before - 2
    assert badge.inner_text() == str(left) if left else badge.count() == 0
    left_whole(page, errors, "chat-owner-reloaded-phone")


def test_a_colleague_sees_their_meeting_request_wait_for_the_owner_without_buttons(site):
    base, app, _, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["colleague_a"], "/chat")
    assert "not with Dana" in page.inner_text("#notice") and "your own twin" not in page.inner_text("#notice")
    _send(page, "Can we find 30 minutes with Dana on Tuesday morning?")
    line = page.locator(".action").last
    assert page.locator(".action").count() == 1
    assert line.locator(".what").inner_text().startswith("Waiting for Dana's approval: tentative")
    assert page.locator(".action button, .decide").count() == 0  # only the owner decides
    waiting = app.store.get_approval(line.get_attribute("data-id"))
    assert waiting.status == "pending" and waiting.action.payload["status"] == "TENTATIVE"
    left_whole(page, errors, "chat-colleague-phone")


def test_enter_sends_shift_enter_breaks_the_line_and_the_conversation_survives_a_reload(site):
    base, _, model, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["colleague_b"], "/chat")
    before = page.locator("#sessions a").count()
    box = page.locator("#message")
    box.type("Is the cutover")
    box.press("Shift+Enter")
    box.type("still on the 8th?")
    page.dispatch_event(
        "#message", "keydown", {"key": "Enter", "isComposing": True}
    )  # an IME picks a character
    assert box.input_value() == "Is the cutover\nstill on the 8th?" and page.locator(".msg").count() == 0

    model.replies.append("Yes, 8 December at 06:00 CET.")
    box.press("Enter")
    page.locator(".msg.ai:not(.pending)").filter(has_text="8 December").wait_for()
    assert page.locator(".msg.human").inner_text() == "Is the cutover\nstill on the 8th?"
    assert box.input_value() == ""
    session = page.get_attribute("#session-label", "data-session")
    assert page.url.endswith(f"/chat?session={session}")
    # the list shows the new conversation at once, by its first words and a local time, never its id
    new = page.locator(f"#sessions a[data-session='{session}']")
    assert (
        new.inner_text() == "Is the cutover still on the 8th?" and new.get_attribute("aria-current") == "true"
    )
    assert page.locator("#sessions a").count() == before + 1
    listed = page.inner_text("#sessions")
    assert session not in listed and "+00:00" not in listed and not re.search(r"\d{4}-\d\d-\d\dT", listed)

    page.reload()
    page.locator(".msg.ai").filter(has_text="8 December").wait_for()
    assert page.locator(".msg").count() == 2
    assert page.get_attribute("#session-label", "data-session") == session
    left_whole(page, errors, "chat-enter-reload-phone")


def test_a_typing_indicator_shows_while_the_answer_is_written(site):
    base, _, model, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["colleague_b"], "/chat")
    model.replies.append("The cutover is on 8 December.")
    model.latency = 1.5
    try:
        page.fill("#message", "When is the cutover?")
        page.press("#message", "Enter")
        typing = page.locator(".msg.ai.pending .typing")
        typing.wait_for()
        assert typing.inner_text().startswith("Dana's assistant is writing")
        assert page.inner_text("#status") == "Dana's assistant is writing…"  # read out by screen readers
        assert page.get_attribute("#status", "aria-live") == "polite"
        page.screenshot(path=str(ARTIFACTS / "chat-typing-phone.png"), full_page=True)
        page.locator(".msg.ai:not(.pending)").filter(has_text="8 December").wait_for()
    finally:
        model.latency = 0.0
    assert page.locator(".typing").count() == 0 and page.inner_text("#status") == ""
    assert fits(page) and errors == []
    page.close()


def test_the_owner_reads_a_colleagues_chat_with_the_held_back_answer_marked(site):
    base, _, model, tokens, browser = site
    page, errors = signed_in(browser, base, tokens["colleague_a"], "/chat")
    model.replies.append(answering("The Helix offer is EUR 212,400."))
    page.fill("#message", "What is the Helix offer?")
    page.press("#message", "Enter")
    answer = page.locator(".msg.ai:not(.pending)").last
    answer.filter(has_text="pass your question on").wait_for()
    assert "212,400" not in answer.inner_text()
    session = page.get_attribute("#session-label", "data-session")
    page.goto(f"{base}/conversations")
    assert page.url == f"{base}/chat"  # the owner's view only
    page.close()

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        desk, errors = signed_in(browser, base, tokens["owner"], "/conversations", viewport)
        sam = desk.locator("section.person[data-person='sam@northwind.example']")
        assert "Sam Okafor" in sam.locator("h2").inner_text()
        talk = sam.locator(f".conversation[data-session='{session}']")
        assert (
            talk.locator("a").inner_text() == "What is the Helix offer?" and session not in talk.inner_text()
        )
        assert talk.locator(".held").inner_text() == "1 held back"
        assert "+00:00" not in talk.locator("time").inner_text()
        desk.screenshot(path=str(ARTIFACTS / f"conversations-{name}.png"), full_page=True)
        assert fits(desk) and errors == []
        talk.locator("a").click()
        desk.wait_for_url(re.compile(f"/conversations/{session}"))
        held = desk.locator(".turn.held-back")
        assert held.count() == 1 and "pass your question on" in held.locator(".msg").inner_text()
        assert "owner-only details: 212,400" in held.locator(".why").inner_text()
        assert desk.locator(".turn.human .msg").inner_text() == "What is the Helix offer?"
        assert desk.locator(".turn.human .who").inner_text() == "Sam Okafor"
        desk.screenshot(path=str(ARTIFACTS / f"conversation-held-back-{name}.png"), full_page=True)
        assert fits(desk) and errors == []
        desk.close()
