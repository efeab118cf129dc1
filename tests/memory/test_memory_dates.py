from __future__ import annotations

from datetime import date, datetime

import pytest

from persona.memory.dates import Span, annotate, asked_span

SAID = datetime(2023, 5, 8, 13, 56)  # a Monday


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("I went to a support group yesterday.", "yesterday [7 May 2023]"),
        ("Last weekend I joined a mentorship.", "Last weekend [the weekend of 6 May 2023]"),
        ("We went camping two weeks ago.", "two weeks ago [the week of 24 April 2023]"),
        ("Last Friday I saw it.", "Last Friday [5 May 2023]"),
        ("Last month I got hurt.", "Last month [April 2023]"),
        ("I painted it last year.", "last year [2022]"),
        ("See you next Monday!", "next Monday [15 May 2023]"),
        ("I fly in 3 days.", "in 3 days [11 May 2023]"),
    ],
)
def test_a_relative_time_is_dated_by_the_message_that_says_it(text: str, written: str) -> None:
    annotated, spans = annotate(text, SAID)
    assert written in annotated and len(spans) == 1


def test_text_without_a_time_or_a_date_is_left_alone() -> None:
    assert annotate("The other day we talked.", SAID) == ("The other day we talked.", [])
    assert annotate("I went there yesterday.", None) == ("I went there yesterday.", [])


def test_the_time_a_question_asks_about() -> None:
    today = date(2026, 12, 7)
    assert asked_span("Where did Joanna travel to in July 2022?", today) == (
        Span(date(2022, 7, 1), date(2022, 7, 31)),
        "Where did Joanna travel to in  ?",
    )
    assert asked_span("Who did Maria have dinner with on May 3, 2023?", today)[0] == Span(
        date(2023, 5, 3), date(2023, 5, 3)
    )
    assert asked_span("What did we decide in 2025?", today)[0] == Span(date(2025, 1, 1), date(2025, 12, 31))
    assert asked_span("what did I promise last week?", today)[0] == Span(
        date(2026, 11, 30), date(2026, 12, 6)
    )
    assert asked_span("When did Caroline go to the support group?", today) == (
        None,
        "When did Caroline go to the support group?",
    )


def test_a_span_survives_its_encoding() -> None:
    span = Span(date(2023, 5, 6), date(2023, 5, 7))
    assert Span.decode(span.encode()) == span and Span.decode("garbage") is None
    assert span.overlaps(Span(date(2023, 5, 7), date(2023, 5, 9))) and not span.overlaps(
        Span(date(2023, 5, 8), date(2023, 5, 9))
    )
