"""The desk's Calendar and Rules views in headless Chromium at 1280 and 390 px; screenshots: test-artifacts/."""

from __future__ import annotations

import re

import pytest
from browser_helpers import DESKTOP, PHONE, chromium, left_whole, signed_in
from desk_calendar import MONDAY, NOW, seed_week
from server_helpers import issue_tokens, new_app, new_home, uvicorn_on_loopback

from persona.profile import load_profile
from persona.server import create_app

pytestmark = pytest.mark.integration
VIEWPORTS = [(DESKTOP, "desktop"), (PHONE, "phone")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app, _ = new_app(new_home(tmp_path_factory.mktemp("desk") / "home"))
    app.clock = lambda: NOW
    proposal = seed_week(app, tmp_path_factory.mktemp("ics"))
    api = create_app(app)
    tokens = issue_tokens(api)
    with chromium() as browser, uvicorn_on_loopback(api) as base:
        yield base, app, tokens["owner"], browser, proposal


@pytest.mark.parametrize(("viewport", "name"), VIEWPORTS)
def test_the_week_fits_with_today_and_the_twins_proposal_marked(site, viewport, name):
    base, _, owner, browser, proposal = site
    page, errors = signed_in(browser, base, owner, "/calendar", viewport)
    assert page.inner_text("h1") == "Week of 7 Dec 2026"
    today = page.locator("[aria-current=date]")
    assert today.get_attribute("id") == "day-2026-12-09" and "Today" in today.inner_text()
    proposed = page.locator("#day-2026-12-10 .event.proposed")
    assert "Roadmap sync" in proposed.inner_text() and "proposed by your twin" in proposed.inner_text()
    assert proposed.get_by_role("link").get_attribute("href") == f"/approvals/{proposal}"
    assert "Tentative" in page.locator("#day-2026-12-08 .event.tentative").inner_text()
    assert page.locator("#day-2026-12-11 .event").count() == 2  # the offsite (all day) and the standup
    monday, tuesday = (page.locator(f"#day-{day}").bounding_box() for day in ("2026-12-07", "2026-12-08"))
    if viewport is PHONE:  # one day under the other
        assert tuesday["y"] >= monday["y"] + monday["height"] and tuesday["x"] == monday["x"]
    else:  # side by side
        assert tuesday["x"] > monday["x"] and tuesday["y"] == monday["y"]
    left_whole(page, errors, f"calendar-{name}")


def test_the_next_and_previous_week_are_a_keypress_away(site):
    base, _, owner, browser, _ = site
    page, errors = signed_in(browser, base, owner, f"/calendar?week={MONDAY}", DESKTOP)
    page.get_by_role("link", name="Next week →").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"week=2026-12-14$"))
    assert page.inner_text("h1") == "Week of 14 Dec 2026" and page.locator("[aria-current=date]").count() == 0
    page.get_by_role("link", name="This week").click()
    page.wait_for_url(re.compile(r"/calendar$"))
    assert page.inner_text("h1") == "Week of 7 Dec 2026" and errors == []
    page.close()


def test_a_rule_added_in_the_form_is_saved_and_a_bad_one_is_named(site):
    base, app, owner, browser, _ = site
    page, errors = signed_in(browser, base, owner, "/rules", DESKTOP)
    page.get_by_role("button", name="Add a triage rule").click()
    row = page.locator("#triage tbody tr").last
    assert row.get_by_label("triage rule 1: match").evaluate(
        "e => e === document.activeElement"
    )  # focus moved
    row.get_by_label("triage rule 1: match").select_option("sender")
    row.get_by_label("triage rule 1: value").fill("promo.example")
    row.get_by_label("triage rule 1: label").select_option("ignore")
    page.get_by_role("button", name="Save rules").click()
    page.locator("#rules-status").filter(has_text="Saved").wait_for()
    assert load_profile(app.home.profile_path).triage.ignore_senders == ["promo.example"]
    assert app.profile.triage.ignore_senders == ["promo.example"]

    before = app.home.profile_path.read_bytes()
    page.get_by_role("button", name="Add an approval rule").click()
    page.get_by_label("approval rule 1: action").select_option("answer_invite")
    page.get_by_role("button", name="Save rules").click()  # `to` left empty
    status = page.locator("#rules-status")
    status.filter(has_text="approval rule 1, `to`").wait_for()
    to = page.get_by_label("approval rule 1: to")
    assert to.get_attribute("aria-invalid") == "true" and to.evaluate("e => e === document.activeElement")
    assert app.home.profile_path.read_bytes() == before
    to.fill("role:colleague")
    page.keyboard.press("Enter")  # saves the form
    status.filter(has_text="Saved: 1 triage and 1 approval rules").wait_for()
    assert [(r.action, r.to) for r in app.profile.approval_rules] == [("answer_invite", ["role:colleague"])]
    page.get_by_role("button", name="Remove triage rule 1").click()
    page.get_by_role("button", name="Save rules").click()
    status.filter(has_text="Saved: 0 triage").wait_for()
    assert app.profile.triage.ignore_senders == [] and errors == []
    page.close()


@pytest.mark.parametrize(("viewport", "name"), VIEWPORTS)
def test_the_rules_form_fits(site, viewport, name):
    base, _, owner, browser, _ = site
    page, errors = signed_in(browser, base, owner, "/rules", viewport)
    page.get_by_role("button", name="Add a triage rule").click()
    page.get_by_role("button", name="Add an approval rule").click()
    assert page.get_by_label("approval rule 1: decision").input_value() == "allow"
    left_whole(page, errors, f"rules-{name}")
