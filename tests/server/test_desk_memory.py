"""The desk's Memory view in Chromium: forgetting everything dated in a span, or one ingest run, asked
first with the count."""

from __future__ import annotations

from browser_helpers import PHONE, accessibility_problems, fits, signed_in

from persona.memory.store import MemoryItem
from persona.profile import Audience


def test_forget_by_date_from_the_memory_page_asks_with_the_count(site):
    base, app, _, tokens, browser = site
    app.memory.add(
        [
            MemoryItem.make(
                f"Ops log 2022-02-0{day}: the backup ran.",
                "knowledge",
                Audience.TEAM,
                source="/logs/ops.md",
                date=f"2022-02-0{day}T08:00:00+00:00",
            )
            for day in (1, 2, 3, 4)
        ]
    )
    page, errors = signed_in(browser, base, tokens["owner"], "/memory", PHONE)
    assert fits(page) and accessibility_problems(page) == []
    page.fill("#dated-since", "2022-02-02")
    page.fill("#dated-before", "2022-02-04")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Forget the span…").click()
    page.locator("#dated-status", has_text="Forgot 2 items").wait_for()
    assert asked == ["Forget 2 items dated since 2022-02-02 and before 2022-02-04?"]
    left = sorted(
        meta["date"][:10] for _, meta in app.memory.entries() if meta.get("source") == "/logs/ops.md"
    )
    assert left == ["2022-02-01", "2022-02-04"]

    page.fill("#dated-since", "")
    page.fill("#dated-before", "")
    page.get_by_role("button", name="Forget the span…").click()
    page.locator("#dated-status.error", has_text="give `before` or `since`").wait_for()
    assert errors == []
    page.close()


def test_forget_an_ingest_run_from_the_memory_page(site):
    base, app, _, tokens, browser = site
    app.memory.add(
        [
            MemoryItem.make(
                f"Junk line {i} \ufffd\ufffd\ufffd",
                "knowledge",
                Audience.OWNER,
                source="/tmp/junk.txt",
                ingest_run="20261207-090000-cafe",
            )
            for i in range(5)
        ]
    )
    page, errors = signed_in(browser, base, tokens["owner"], "/memory", PHONE)
    listed = page.locator("#runs option").evaluate_all("options => options.map(o => o.value)")
    assert "20261207-090000-cafe" in listed  # offered from the sources' runs
    page.fill("#run-id", "20261207-090000-cafe")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Forget the run…").click()
    page.locator("#run-status", has_text="Forgot 5 items of run 20261207-090000-cafe").wait_for()
    assert asked == ["Forget the 5 items run 20261207-090000-cafe added?"]
    assert app.memory.entries({"ingest_run": "20261207-090000-cafe"}) == []
    assert fits(page) and accessibility_problems(page) == []
    assert errors == []
    page.close()
