"""Headless Chromium (Debian's) drives the real pages over uvicorn on loopback; screenshots: test-artifacts/."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from ci import need
from server_helpers import issue_tokens, new_app, new_home, uvicorn_on_loopback

from persona.events import Action, ActionKind, Principal, Provenance
from persona.server import create_app

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need(shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    need(
        importlib.util.find_spec("playwright") is not None,
        "the playwright package is missing (pip install playwright)",
    )
    from playwright.sync_api import sync_playwright

    app, model = new_app(new_home(tmp_path_factory.mktemp("browser") / "home"))
    api = create_app(app)
    tokens = issue_tokens(api)
    ARTIFACTS.mkdir(exist_ok=True)
    with uvicorn_on_loopback(api) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield base, app, model, tokens, browser
        finally:
            browser.close()


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
    session = page.inner_text("#session-label").strip("()")
    page.screenshot(path=str(ARTIFACTS / "chat-colleague.png"), full_page=True)
    assert "join#" not in page.url  # the token left the address bar
    # the same conversation, read back after a reload, is the one persisted server-side
    page.reload()
    page.click(f"#sessions a[data-session='{session}']")
    page.locator(".msg").nth(3).wait_for()
    assert [m.inner_text() for m in page.locator(".msg").all()][::2] == [
        "When is the pg16 cutover?",
        "Thanks!",
    ]
    # a colleague's browser cannot open the dashboard
    page.goto(f"{base}/dashboard")
    assert page.url == f"{base}/chat"
    page.close()


def test_owner_edits_and_approves_an_action_on_the_dashboard(site):
    base, app, _, tokens, browser = site
    delivered: list[Action] = []
    app.gate.register(ActionKind.SEND_MAIL, lambda action: delivered.append(action) or "sent to the outbox")
    sam = Principal.resolve(app.profile, "sam@northwind.example")
    action = Action(
        kind=ActionKind.SEND_MAIL,
        requested_by=sam,
        targets=["sam@northwind.example"],
        target_provenance=[Provenance.of(sam)],
        payload_provenance=[Provenance.of(sam)],
        payload={"subject": "Re: cutover", "body": "Sure, 06:00 works."},
        summary="reply to Sam about the cutover",
    )
    assert app.gate.submit(action).decision.verdict.value == "needs_approval"

    page = browser.new_page()
    page.goto(f"{base}/login")
    page.fill("#token", tokens["owner"])
    page.click("#login button")
    page.wait_for_url(f"{base}/dashboard")
    box = page.locator(f".approval[data-id='{action.id}']")
    assert "reply to Sam about the cutover" in box.inner_text()
    box.locator("textarea[name=body]").fill("Sure, 06:00 works. I'll be online from 05:45.")
    box.locator("button.approve").click()
    box.locator(".result").filter(has_text="executed").wait_for()
    assert delivered[-1].payload["body"] == "Sure, 06:00 works. I'll be online from 05:45."
    approval = app.store.get_approval(action.id)
    assert approval.status == "executed" and approval.decided_by == "dana@northwind.example"

    page.fill("#memory-q", "Helix offer")
    page.press("#memory-q", "Enter")
    page.locator("#memory-results li").filter(has_text="212,400").wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-owner.png"), full_page=True)
    page.reload()  # the audit log on the page shows the approval
    assert "approved" in page.inner_text("#audit") and "executed" in page.inner_text("#activity")
    page.close()
