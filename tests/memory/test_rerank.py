"""The ranking of a search's candidates (persona.memory.rerank), on hand-made candidates."""

from persona.memory import rerank
from persona.memory.rerank import Asked, Candidate


def _chat(text: str, similarity: float, prev: str = "", next_: str = "") -> Candidate:
    return Candidate(text, {"doc_kind": "chat", "speaker": "Nate", "prev": prev, "next": next_}, similarity)


def _nobody(ids: object) -> dict[str, Candidate]:
    return {}


def test_a_message_holding_the_questions_words_ranks_above_one_as_near_without_them() -> None:
    asked = Asked(terms=frozenset({"turtles", "long"}))
    candidates = {
        "a": _chat("Nate: I love my dog so much", 0.5),
        "b": _chat("Nate: my turtles are great", 0.5),
    }
    assert [id_ for id_, _, _ in rerank.ranked(candidates, _nobody, asked, 2)] == ["b", "a"]


def test_the_answer_after_a_matching_question_joins_and_rises() -> None:
    question = _chat("Joanna: How long have you had your turtles?", 0.8, next_="answer")
    answer = _chat("Nate: Three years now!", 0.2, prev="q")
    other = _chat("Nate: The weather is nice today.", 0.3)

    def read(ids: object) -> dict[str, Candidate]:
        return {"answer": answer}

    ranked = [id_ for id_, _, _ in rerank.ranked({"q": question, "other": other}, read, Asked(), 3)]
    assert ranked.index("answer") < ranked.index(
        "other"
    )  # not found by either half, shown for its turn before


def test_a_long_text_counts_no_longer_than_a_long_message() -> None:
    short = rerank.features("x", {"x": _chat("Nate: " + "word " * rerank.LONG, 0.5)}, Asked())
    long = rerank.features("x", {"x": _chat("Nate: " + "word " * 10 * rerank.LONG, 0.5)}, Asked())
    assert short["length"] == long["length"]


def test_a_mail_scores_as_a_chat_message_with_neighbours_like_it() -> None:
    mail = Candidate("The cutover is on Sunday.", {"doc_kind": "mail"}, 0.6, keyword_score=0.5)
    message = Candidate(
        "Dana: The cutover is on Sunday.",
        {"doc_kind": "chat", "speaker": "Dana", "prev": "p", "next": "n"},
        0.6,
        keyword_score=0.5,
    )
    alike = Candidate(
        "Dana: The cutover is on Sunday.", {"doc_kind": "chat", "speaker": "Dana"}, 0.6, keyword_score=0.5
    )
    known = {"mail": mail, "msg": message, "p": alike, "n": alike}
    asked = Asked(terms=frozenset({"cutover"}))
    mail_features = rerank.features("mail", known, asked)
    message_features = rerank.features("msg", known, asked)
    message_features.pop("before_question")  # a mail has no turn before it that asks
    assert mail_features == message_features


def test_a_question_asking_when_or_how_many_prefers_a_message_that_holds_one() -> None:
    when = Asked.of("When did Nate adopt the turtles?", frozenset({"nate"}), None, frozenset({"turtles"}))
    count = Asked.of("How many turtles does Nate have?", frozenset({"nate"}), None, frozenset({"turtles"}))
    what = Asked.of("What do Nate's turtles eat?", frozenset({"nate"}), None, frozenset({"turtles"}))
    assert (when.wants_time, count.wants_count, what.wants_time, what.wants_count) == (
        True,
        True,
        False,
        False,
    )
    dated = _chat("Nate: I got the turtles two years ago.", 0.5)
    undated = _chat("Nate: I got the turtles at the pet store.", 0.5)
    counted = _chat("Nate: I have three turtles.", 0.5)
    candidates = {"dated": dated, "undated": undated, "counted": counted}
    assert rerank.ranked(candidates, _nobody, when, 1)[0][0] == "dated"
    assert rerank.features("dated", candidates, what)["when_dated"] == 0.0  # it asks neither
    del candidates["dated"]  # "two years ago" holds a number too
    assert rerank.ranked(candidates, _nobody, count, 1)[0][0] == "counted"


def test_the_topic_of_a_question_naming_someone_outweighs_the_name() -> None:
    """Every message of Nate's starts "Nate: ", so the question's vector is near all of them: the topic's
    similarity (the question without the name) tells the one about turtles."""
    asked = Asked(names=frozenset({"nate"}))
    about = Candidate(
        "Nate: My turtles love the sun.", {"doc_kind": "chat", "speaker": "Nate"}, 0.6, topic=0.7
    )
    near_name = Candidate(
        "Nate: Thanks, Joanna, see you soon!", {"doc_kind": "chat", "speaker": "Nate"}, 0.7, topic=0.2
    )
    ranked = rerank.ranked({"about": about, "name": near_name}, _nobody, asked, 2)
    assert [id_ for id_, _, _ in ranked] == ["about", "name"]
    assert Candidate("x", {}, 0.4).about == 0.4  # no topic of its own: its similarity
