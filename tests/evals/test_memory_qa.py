"""`persona eval memory --qa`: the twin's own answers to LoCoMo questions, scored as LoCoMo scores them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_report_and_bench import LOCOMO

from persona.evals.memory import run
from persona.evals.memory_qa import Answer, dates_in, same_date, sample, scores, token_f1
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.settings import Settings


@pytest.mark.parametrize(
    ("answer", "gold", "f1"),
    [
        ("A greyhound.", "a greyhound", 1.0),
        ("They adopted a rescue greyhound called Pip", "a greyhound", 2 * (1 / 6) * 1 / (1 / 6 + 1)),
        ("I don't know", "a greyhound", 0.0),
        ("", "a greyhound", 0.0),
    ],
)
def test_token_f1_drops_case_punctuation_and_articles(answer: str, gold: str, f1: float) -> None:
    assert token_f1(answer, gold) == pytest.approx(f1)


@pytest.mark.parametrize(
    ("answer", "gold", "match"),
    [
        ("She went on 6 May 2023.", "6 May 2023", True),
        ("It was May 6, 2023, a Saturday.", "6 May 2023", True),
        ("On 2023-05-06", "6 May 2023", True),
        ("On 7 May 2023", "6 May 2023", False),
        ("In May 2023", "6 May 2023", False),  # the gold gives the day: the answer must too
        ("On 12 May 2023", "May 2023", True),  # the gold gives the month only
        ("Sometime in 2022", "2022", True),
        ("Last week", "6 May 2023", False),
        ("Yes", "Caroline", None),  # no date in the gold: not a date question
    ],
)
def test_a_date_matches_to_the_precision_the_gold_answer_gives(
    answer: str, gold: str, match: bool | None
) -> None:
    assert same_date(answer, gold) is match


def test_dates_are_read_in_the_usual_ways_of_writing_them() -> None:
    assert dates_in("the sunday before 25 May 2023, or June 2023, or 2021") == {
        (2023, 5, 25),
        (2023, 6, None),
        (2021, None, None),
    }


def test_the_sample_spreads_over_the_questions_and_is_the_same_each_run() -> None:
    from persona.evals.memory import Question

    questions = [
        Question(conversation="c", question=f"q{n}", answer="", category="x", evidence=["c/D1:1"])
        for n in range(10)
    ]
    assert (
        [q.question for q in sample(questions, 3)]
        == ["q0", "q3", "q6"]
        == [q.question for q in sample(questions, 3)]
    )
    assert sample(questions, 20) == questions


def test_scores_group_by_category_and_count_only_dated_temporal_answers() -> None:
    answers = [
        Answer(
            question="a", category="temporal", gold="6 May 2023", answer="6 May 2023", f1=1.0, date_match=True
        ),
        Answer(question="b", category="temporal", gold="6 May 2023", answer="May", f1=0.4, date_match=False),
        Answer(question="c", category="single-hop", gold="a dog", answer="a dog", f1=1.0),
    ]
    result = scores(answers)
    assert result["all"].questions == 3 and result["all"].f1 == pytest.approx(0.8)
    assert result["temporal"].dated == 2 and result["temporal"].date_match == 0.5
    assert result["single-hop"].date_match is None


def test_the_twin_answers_from_the_memory_the_eval_built(tmp_path: Path, fake_embeddings) -> None:
    """Each sampled question goes through the twin as the owner's question: the message holding the answer
    (with its relative date resolved at ingest) reaches the model, and what the model says is scored."""

    def answer(messages) -> str:
        asked = messages[-1].text
        if "When did Ana go to the pottery class?" in asked:
            assert "Ana: I went to a pottery class yesterday [6 May 2023]." in asked
            return "You went on 6 May 2023."
        assert "What pet did Ben adopt?" in asked and "We adopted a rescue greyhound called Pip." in asked
        return "A greyhound called Pip."

    data = tmp_path / "locomo.json"
    data.write_text(json.dumps(LOCOMO))
    model = ScriptedChatModel(replies=[answer] * 2)
    report = run(data, Settings(chroma_url=None), fake_embeddings, qa=2, llm=LLM(model, local=True))
    assert [a.gold for a in report.answers] == ["6 May 2023", "a greyhound"]
    assert report.answers[0].date_match is True and report.answers[0].f1 < 1.0
    assert report.qa["temporal"].date_match == 1.0 and report.qa["single-hop"].f1 == pytest.approx(0.5)
    assert report.product["all"].questions == 2  # the recall half ran on the same home
