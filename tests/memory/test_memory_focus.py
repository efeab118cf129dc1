"""A long memory item reaches the prompt as its lines that bear on the question."""

from __future__ import annotations

from persona.memory.focus import GAP, focused

QUESTION = [1.0, 0.0]


def by_word(word: str, calls: list[list[str]]):
    """An embedding in which a line is close to the question when it says `word`; the calls are kept."""

    def embed(lines: list[str]) -> list[list[float]]:
        calls.append(lines)
        return [[1.0, 0.0] if word in line.lower() else [0.6, 0.8] for line in lines]

    return embed


LINES = [
    "Hi Rachel,",
    "",
    "Thank you for the call on Monday, and for sending the new figures so quickly.",
    "We agree to two years at the price of 104,500 a year, with year two capped at five percent.",
    "My one condition is internal: log sampling has to keep ingest under the agreed daily volume.",
    "Please send the order form now, so legal can review it in parallel with the security review.",
    "Best,",
    "Dana",
]
LONG = "\n".join(LINES)


def test_a_short_or_single_line_text_is_shown_whole_without_embedding_anything() -> None:
    calls: list[list[str]] = []
    one_line = " ".join(["a long line about the price"] * 20)
    texts = ["The price is 104,500.", one_line]
    assert focused(texts, QUESTION, by_word("price", calls), tokens=20) == texts
    assert calls == []


def test_a_long_text_keeps_its_closest_lines_in_order_within_the_budget_and_marks_the_gaps() -> None:
    calls: list[list[str]] = []
    short = "Lunch on Friday?"
    got = focused([LONG, short, LONG.replace("price", "cost")], QUESTION, by_word("price", calls), tokens=25)
    assert len(calls) == 1  # the lines of every long text in one call
    assert got[1] == short
    lines = got[0].split("\n")
    assert lines[0] == GAP and lines[-1] == GAP  # lines before and after were left out
    assert (
        "We agree to two years at the price of 104,500 a year, with year two capped at five percent." in lines
    )
    assert "Dana" not in lines and "Thank you for the call on Monday" not in got[0]
    assert all(line in LONG for line in lines if line != GAP)


def test_the_closest_line_is_kept_even_when_it_alone_is_over_the_budget() -> None:
    got = focused([LONG], QUESTION, by_word("condition", []), tokens=5)[0]
    assert got.split("\n") == [GAP, LINES[4], GAP]


def test_lines_kept_far_apart_have_a_gap_between_them() -> None:
    lines = ["alpha one", "filler line number one here", "filler line number two here", "alpha two"]
    got = focused(["\n".join(lines)], QUESTION, by_word("alpha", []), tokens=6)[0]
    assert got.split("\n") == ["alpha one", GAP, "alpha two"]
