"""The desk's Memory view in Chromium: forgetting everything dated in a span, asked first with the count."""

from __future__ import annotations

from browser_helpers import PHONE, accessibility_problems, fits, signed_in

from persona.memory.store import MemoryItem
from persona.profile import Audience


def test_forget_by_date_from_the_memory_page_asks_with_the_count(site):
    base, app, _, tokens, browser = site
    app.memory.add([MemoryItem.make(f"Ops log 2022-02-0{day}: the backup ran.", "knowledge", Audience.TEAM,
                                    source="/logs/ops.md", date=f"2022-02-0{day}T08:00:00+00:00")
                    for day in (1, 2, 3, 4)])
    page, errors = signed_in(browser, base, tokens["owner"], "/memory", PHONE)
    assert fits(page) and accessibility_problems(page) == []
    page.fill("#dated-since", "2022-02-02")
    page.fill("#dated-before", "2022-02-04")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Forget…").click()
    page.locator("#dated-status", has_text="Forgot 2 items").wait_for()
    assert asked == ["Forget 2 items dated since 2022-02-02 and before 2022-02-04?"]
    left = sorted(meta["date"][:10] for _, meta in app.memory.entries() if meta.get("source") == "/logs/ops.md")
    assert left == ["2022-02-01", "2022-02-04"]

    page.fill("#dated-since", "")
    page.fill("#dated-before", "")
    page.get_by_role("button", name="Forget…").click()
    page.locator("#dated-status.error", has_text="give `before` or `since`").wait_for()
    assert errors == []
    page.close()
