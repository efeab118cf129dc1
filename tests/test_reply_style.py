"""The owner's form applied to drafted replies: greeting names, sign-offs, length, language."""

from __future__ import annotations

import pytest

from persona.memory.style import Share, StyleCard, compute_style_card, language_of, word_count
from persona.profile import Person
from persona.skills.prompt import first_name
from persona.skills.reply_style import (
    finish_reply,
    greeting_name,
    length_range,
    reply_content,
    trim_to,
    usual_greeting,
    usual_language,
    usual_signoff,
    within_length,
)

OWNER = "Dani Kim"
CARD = StyleCard(
    samples=40,
    greetings=[Share(text="Hi {name},", share=0.6), Share(text="Hey {name}!", share=0.1)],
    signoffs=[Share(text="Thanks, Dani", share=0.7), Share(text="-D", share=0.1)],
    words_p10=12,
    words_p25=20,
    words_median=30,
    words_p75=40,
    words_p90=50,
)
NO_GREETING = StyleCard(  # greets in 10% of mail, signs with "-D" in 60%
    samples=40,
    greetings=[Share(text="Hi {name},", share=0.1)],
    signoffs=[Share(text="-D", share=0.6)],
    words_p10=3,
    words_p25=6,
    words_median=10,
    words_p75=15,
    words_p90=25,
)


def finish(body: str, them: str = "Maria", style: StyleCard | None = CARD) -> str:
    return finish_reply(body, them=them, owner_name=OWNER, style=style)


# --- greeting_name ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "address", "expected"),
    [
        ("Lay, Kenneth", "klay@enron.com", "Kenneth"),
        ("maria mitchell/enron", "", "Maria"),
        ("Maria Mitchell/HOU/ECT@ECT", "", "Maria"),
        ("'Smith, John A.'", "", "John"),
        ('"Dr. Priya Raman"', "priya@example.com", "Priya"),
        ("MARIA MITCHELL", "", "Maria"),
        ("maria", "", "Maria"),
        ("jean-luc picard", "", "Jean-Luc"),
        ("Jeff Dasovich@ENRON", "", "Jeff"),
        ("John Smith, PhD", "", "John"),
        ("Smith Jr., John", "", "John"),
        ("J. Robert Smith", "", "Robert"),
        ("Sofia Lindqvist (Legal)", "", "Sofia"),
        ("DeShawn McKenzie", "", "DeShawn"),
        ("Łukasz Nowak", "", "Łukasz"),
        ("Dr. Raman", "", "Dr. Raman"),  # no first name to use: the title keeps it polite
    ],
)
def test_first_name_from_a_display_name(display: str, address: str, expected: str) -> None:
    assert greeting_name(display, address) == expected


@pytest.mark.parametrize(
    ("display", "address", "expected"),
    [
        ("", "kenneth.lay@enron.com", "Kenneth"),
        ("kenneth.lay@enron.com", "kenneth.lay@enron.com", "Kenneth"),  # the address as the display name
        ("Kenneth.Lay", "", "Kenneth"),
        ("", "maria_mitchell+lists@example.com", "Maria"),
        ("", "klay@enron.com", ""),  # a first name cannot be read from it
        ("", "j.smith@example.com", ""),
        ("", "info@example.com", ""),
        ("", "sales@example.com", ""),
        ("noreply@example.com", "noreply@example.com", ""),
        ("", "no-reply@example.com", ""),
        ("", "newsletter.team@example.com", ""),
        ("Sales Team", "sales@example.com", ""),
        ("Enron Announcements", "announce@enron.com", ""),
        ("Customer Service", "", ""),
        ("J. Smith", "", ""),
        ("", "", ""),
    ],
)
def test_first_name_from_an_address_or_none(display: str, address: str, expected: str) -> None:
    assert greeting_name(display, address) == expected


def test_the_profile_knows_better_than_the_header() -> None:
    people = [
        Person(name="Kenneth Lay", emails=["klay@enron.com"]),
        Person(name="Dr. Priya Raman", emails=["pr@example.com"]),
    ]
    assert greeting_name("KLAY", "KLay@Enron.com", people) == "Kenneth"
    assert greeting_name("", "pr@example.com", people) == "Priya"
    assert greeting_name("Sam Ortiz", "sam@example.com", people) == "Sam"  # not in the profile


def test_the_name_the_sender_signs_with_when_it_fits_the_address() -> None:
    text = "Can you call me about the Dabhol numbers?\n\nThanks,\nKen"
    assert greeting_name("", "klay@enron.com", text=text) == "Ken"
    assert greeting_name("", "bob@enron.com", text=text) == ""  # "Ken" is not bob@
    assert greeting_name("", "kmann@enron.com", text="Please see attached.\n\nKay") == "Kay"
    assert greeting_name("", "kmann@enron.com", text="Please see the attached file.") == ""


def test_greeting_name_is_stable_on_its_own_answers() -> None:
    for display in ("Lay, Kenneth", "maria mitchell/enron", "Dr. Raman", "Jean-Luc", "Ken"):
        once = greeting_name(display)
        assert greeting_name(once) == once


def test_prompt_first_name_reads_names_and_keeps_a_fallback() -> None:
    assert first_name("Dana Reyes") == "Dana"
    assert first_name("Lay, Kenneth") == "Kenneth"
    assert first_name("Dr. Priya Raman") == "Priya"
    assert first_name("sam@example.com") == "sam@example.com"  # callers need a word to write
    assert first_name("Sales Team") == "Sales"
    assert first_name("") == ""


# --- greeting and sign-off ------------------------------------------------------------------------


def test_bad_greetings_seen_in_real_drafts_are_replaced() -> None:
    assert finish("Hi Kenneth.Lay@enron.com-\n\nI will attend.", them="Kenneth") == (
        "Hi Kenneth,\n\nI will attend.\n\nThanks,\nDani"
    )
    assert finish("Hi maria mitchell/enron- I can attend on Friday.") == (
        "Hi Maria,\n\nI can attend on Friday.\n\nThanks,\nDani"
    )
    assert finish("Dear [Recipient's Name],\n\nNoted, thank you.") == (
        "Hi Maria,\n\nNoted, thank you.\n\nThanks,\nDani"
    )
    assert finish("Hi Dani,\n\nSure, sounds good.") == "Hi Maria,\n\nSure, sounds good.\n\nThanks,\nDani"
    assert finish("Dear Sir or Madam,\n\nNoted.") == "Hi Maria,\n\nNoted.\n\nThanks,\nDani"
    assert finish("Good morning Maria,\nNoted.") == "Hi Maria,\n\nNoted.\n\nThanks,\nDani"
    assert finish("Hello Maria! Yes, Tuesday works.") == "Hi Maria,\n\nYes, Tuesday works.\n\nThanks,\nDani"


def test_a_greeting_with_the_answer_on_its_line_keeps_the_answer() -> None:
    assert finish("Hi Maria, thanks for the note. I'll be there.") == (
        "Hi Maria,\n\nThanks for the note. I'll be there.\n\nThanks,\nDani"
    )
    assert finish("Hi Maria thanks for the note, I'll be there.") == (
        "Hi Maria,\n\nThanks for the note, I'll be there.\n\nThanks,\nDani"
    )
    assert finish("Hey, quick answer: yes.") == "Hi Maria,\n\nQuick answer: yes.\n\nThanks,\nDani"


def test_lines_that_only_start_like_a_greeting_stay() -> None:
    assert finish("Hello from the team at Orion, we are on track.").startswith(
        "Hi Maria,\n\nHello from the team at Orion, we are on track."
    )
    assert finish("Hey that works great for us.").startswith("Hi Maria,\n\nHey that works great for us.")


def test_model_sign_offs_are_replaced_by_the_owners_one() -> None:
    expected = "Hi Maria,\n\nThe report is attached.\n\nThanks,\nDani"
    for closing in (
        "Best regards,\nDani",
        "Best regards, Dani — D",  # two in one line
        "— D",
        "Thanks,\n[Your Name]",
        "Sincerely, Dani Kim\nHead of Ops",
        "Best regards,\n[Your Name]\n[Your Position]\n[Your Contact Information]",
        "Best,\nQwen",  # the model's own name
        "Kind regards,\nDani Kim\nHead of Operations | Northwind Ltd.\n+1 555 0100\ndani@northwind.example",
        "Thanks!\n\nBest,\nDani",  # several blocks
        "Cheers,\nDani\n\nBest regards,\nDani",
        "Thanks, Maria!",
        "Thank you,\nDani\n\n---\n\n",
        "Best,\nDani\n\n--\nDani Kim\nHead of Ops",
        "Best regards,\nDani\nDani's Assistant",
    ):
        assert finish(f"The report is attached.\n\n{closing}") == expected, closing


def test_thanks_mid_body_is_content_at_the_end_a_sign_off() -> None:
    body = "Thanks!\n\nThe report is attached.\n\nBest,\nDani"
    assert finish(body) == "Hi Maria,\n\nThanks!\n\nThe report is attached.\n\nThanks,\nDani"
    attached = "Hi Maria,\n\nThe report is attached.\n\nThanks,\nDani"
    assert finish("The report is attached.\n\nThanks!\nDani") == attached
    assert finish("The report is attached.\nThanks!") == attached
    # a sentence that starts with a closing word is no closing
    assert "Thanks for the update!" in finish("Got it.\n\nThanks for the update!\n\nBest,\nDani")
    assert "Best of luck with the launch!" in finish("Got it.\nBest of luck with the launch!")
    assert "See you Tuesday." in finish("Works for me. See you Tuesday.\nSee you Tuesday.")


def test_sentences_after_a_mid_body_thanks_are_kept() -> None:
    body = "Thanks!\nI'll bring the slides.\n\nBest regards,\nDani"
    assert finish(body) == "Hi Maria,\n\nThanks!\nI'll bring the slides.\n\nThanks,\nDani"
    lists = "Agenda:\n- Budget Review\n- Hiring Plan\n\nCheers,\nDani"
    assert finish(lists) == "Hi Maria,\n\nAgenda:\n- Budget Review\n- Hiring Plan\n\nThanks,\nDani"


def test_a_postscript_follows_the_sign_off() -> None:
    body = (
        "Here is my reply:\n\nHi Maria,\n\nYes, Tuesday works.\n\nBest,\nDani\n\nP.S. I'll bring the slides."
    )
    assert finish(body) == "Hi Maria,\n\nYes, Tuesday works.\n\nThanks,\nDani\n\nP.S. I'll bring the slides."
    signed_after = "Yes, Tuesday works.\n\nP.S. I'll bring the slides.\n\nBest,\nDani"
    assert finish(signed_after) == finish(body)


def test_a_body_that_is_only_a_sign_off() -> None:
    assert finish("Best regards,\nDani") == ""  # nothing to send: the caller falls back
    assert finish("Hi Maria,\n\nBest regards,\n[Your Name]") == ""
    assert finish("") == ""
    assert finish("Thanks!\nDani") == "Hi Maria,\n\nThanks!\n\nThanks,\nDani"  # the thanks is the message
    assert finish("Many thanks, Dani") == "Hi Maria,\n\nMany thanks.\n\nThanks,\nDani"


def test_no_style_card_gives_plain_defaults() -> None:
    body = "Dear [Name],\n\nThanks for the note. I'll send the file.\n\nThanks,\n[Your Name]"
    assert finish(body, style=None) == "Hi Maria,\n\nThanks for the note. I'll send the file.\n\nBest,\nDani"
    assert finish(body, them="", style=None) == (
        "Hi,\n\nThanks for the note. I'll send the file.\n\nBest,\nDani"
    )
    assert finish(body, style=StyleCard()) == finish(body, style=None)  # an empty card says nothing


def test_an_owner_who_writes_no_greeting_gets_none() -> None:
    body = "Hi Kenneth.Lay@enron.com-\n\nI will attend.\n\nBest regards,\nDani"
    assert finish(body, them="Kenneth", style=NO_GREETING) == "I will attend.\n\n-D"
    quiet = NO_GREETING.model_copy(update={"signoffs": []})
    assert finish(body, them="Kenneth", style=quiet) == "I will attend."


def test_the_owners_usual_forms() -> None:
    assert usual_greeting(CARD, "Maria") == "Hi Maria,"
    assert usual_greeting(CARD, "") == "Hi,"
    dear = CARD.model_copy(update={"greetings": [Share(text="Dear {name},", share=0.9)]})
    assert usual_greeting(dear, "") == "Hello,"
    group = CARD.model_copy(
        update={"greetings": [Share(text="Hi all,", share=0.5), Share(text="Hey {name}!", share=0.2)]}
    )
    assert usual_greeting(group, "Maria") == "Hey Maria!"  # a group greeting is not for one person
    only_group = CARD.model_copy(update={"greetings": [Share(text="Morning team,", share=0.8)]})
    assert usual_greeting(only_group, "Maria") == "Morning Maria,"
    assert usual_signoff(CARD, OWNER) == "Thanks,\nDani"
    assert usual_signoff(NO_GREETING, OWNER) == "-D"
    dashed = CARD.model_copy(update={"signoffs": [Share(text="— D", share=0.6)]})
    assert usual_signoff(dashed, OWNER) == "— D"
    bang = CARD.model_copy(update={"signoffs": [Share(text="Cheers! Dani", share=0.6)]})
    assert usual_signoff(bang, OWNER) == "Cheers!\nDani"
    full = CARD.model_copy(update={"signoffs": [Share(text="Best regards, Dani Kim", share=0.8)]})
    assert usual_signoff(full, OWNER) == "Best regards,\nDani Kim"
    assert usual_signoff(None, OWNER) == "Best,\nDani"


def test_a_card_learned_from_mail_drives_the_form() -> None:
    sent = [
        f"Hey {n},\n\nSure, {n.lower()} can have it by Friday. Let me know.\n\nCheers,\nDani"
        for n in ("Sam", "Pat", "Kim", "Lee", "Ana", "Bo")
    ]
    card = compute_style_card(sent, OWNER)
    out = finish_reply(
        "Hi [Name],\n\nYes, that works.\n\nBest regards,\nDani Kim\nHead of Ops",
        them="Maria",
        owner_name=OWNER,
        style=card,
    )
    assert out == "Hey Maria,\n\nYes, that works.\n\nCheers,\nDani"


def test_reply_content_is_the_body_alone() -> None:
    text = "Hi Maria,\n\nYes.\n\nSee below.\n\nBest,\nDani\nP.S. Thanks"
    content, postscript = reply_content(text, owner_name=OWNER)
    assert (content, postscript) == ("Yes.\n\nSee below.", "P.S. Thanks")


# --- length ---------------------------------------------------------------------------------------


def test_length_range_from_the_card() -> None:
    assert length_range(CARD) == (12, 50)
    old = CARD.model_copy(update={"words_p10": 0, "words_p90": 0})  # saved before p10/p90 were kept
    assert length_range(old) == (20, 40)
    assert length_range(None) is None and length_range(CARD.model_copy(update={"samples": 3})) is None
    assert within_length("word " * 30, CARD) and not within_length("word " * 60, CARD)
    assert not within_length("Yes.", CARD) and within_length("Yes.", None)


def test_old_saved_cards_still_load(tmp_path) -> None:
    path = tmp_path / "card.json"
    path.write_text('{"samples": 5, "words_median": 20, "words_p25": 10, "words_p75": 30}')
    card = StyleCard.load(path)
    assert card is not None and card.words_p90 == 0 and card.language == ""
    assert length_range(card) == (10, 30)


def test_percentiles_are_computed() -> None:
    texts = [" ".join(["word"] * n) for n in range(1, 21)]
    card = compute_style_card(texts, OWNER)
    assert card.words_p10 < card.words_p25 < card.words_median < card.words_p75 < card.words_p90
    assert (card.words_p10, card.words_p90) == (2.9, 18.1)


def test_a_far_too_long_reply_is_cut_by_whole_sentences_at_the_end() -> None:
    body = "Yes, Tuesday works. " + " ".join(f"Extra point number {i} goes on a while." for i in range(20))
    out = finish(body)
    assert word_count(out) <= 50 and out.endswith("goes on a while.\n\nThanks,\nDani")
    assert out.startswith("Hi Maria,\n\nYes, Tuesday works. Extra point number 0")
    moderate = "Yes, Tuesday works. " + " ".join(f"Point {i} matters." for i in range(20))  # < 2x usual max
    assert moderate in finish(moderate)


def test_trimming_never_cuts_below_the_first_sentence() -> None:
    first = "This first sentence is long " + "and long " * 60 + "but it stays."
    body = first + " A second one. A third one."
    assert finish(body) == f"Hi Maria,\n\n{first}\n\nThanks,\nDani"
    assert trim_to("Dr. Smith agreed, e.g. on the budget. Then more. And more.", 9) == (
        "Dr. Smith agreed, e.g. on the budget."
    )
    assert trim_to("Here is the plan. The options are:\n- one\n- two\n- three", 7) == "Here is the plan."
    assert trim_to("One line without a stop", 2) == "One line without a stop"


# --- language -------------------------------------------------------------------------------------


def test_the_owners_language_is_recorded_not_translated() -> None:
    german = [
        f"Hallo {n},\n\nich kann am Dienstag nicht, aber der Mittwoch geht auch. Bitte sag mir, ob das"
        " für euch passt. Danke!\n\nViele Grüße\nDani"
        for n in ("Sam", "Pat", "Kim", "Lee", "Ana")
    ]
    card = compute_style_card(german, OWNER)
    assert usual_language(card) == "de"
    assert "Writes in: German" in card.prompt_lines()
    english = compute_style_card([t.replace("Hallo", "Hi") for t in CORPUS_EN], OWNER)
    assert usual_language(english) == "en"
    assert not any(line.startswith("Writes in") for line in english.prompt_lines())
    assert usual_language(None) == ""
    assert language_of("ok") == "" and language_of("Merci, je vous envoie le fichier demain.") == "fr"
    body = "Hallo Maria,\n\nDas passt, danke.\n\nBest,\nDani"
    assert "Das passt, danke." in finish(body)  # the text is left in the language it is in


CORPUS_EN = [
    f"Hi {n},\n\nThe plan for this week is fine and we will have the numbers for you by Friday."
    " Would that work for your team?\n\nThanks,\nDani"
    for n in ("Sam", "Pat", "Kim", "Lee", "Ana")
]


def test_a_dashed_greeting_keeps_its_space() -> None:
    from persona.memory.style import greeting_of

    assert greeting_of("Ken -\n") == ""
    assert greeting_of("Hi Ken -\nbody") == "Hi {name} -"
    assert greeting_of("Hi Ken-\nbody") == "Hi {name}-"
    card = StyleCard(samples=9, greetings=[Share(text="Hi {name} -", share=0.9)])
    out = finish("Hi Kenneth.Lay@enron.com- I will attend.", them="Kenneth", style=card)
    assert out == "Hi Kenneth -\n\nI will attend."


def test_a_form_in_a_fifth_of_the_owners_mail_is_a_habit_and_rarer_is_not() -> None:
    # an assistant's card: much of her sent mail is forwards and notes, yet her replies greet and sign
    seen = StyleCard(
        samples=244,
        greetings=[Share(text="Hi {name} -", share=0.225)],
        signoffs=[Share(text="Rosalee", share=0.209), Share(text="Thanks. Rosalee", share=0.07)],
    )
    assert usual_greeting(seen, "Tom") == "Hi Tom -" and usual_signoff(seen, "Rosalee Fleming") == "Rosalee"
    rare = StyleCard(
        samples=244, greetings=[Share(text="Hi {name},", share=0.1)], signoffs=[Share(text="R", share=0.1)]
    )
    assert usual_greeting(rare, "Tom") == "" and usual_signoff(rare, "Rosalee Fleming") == ""


def test_the_owners_name_run_into_the_last_sentence_is_a_signature_and_is_signed_once() -> None:
    run_in = "Hi -\n\nYes, I will do that. Also, I will see Rupert again. Rosalee\n\nRosalee"
    assert finish_reply(run_in, them="", owner_name="Rosalee Fleming", style=None) == (
        "Hi,\n\nYes, I will do that. Also, I will see Rupert again.\n\nBest,\nRosalee"
    )
    assert finish_reply("I met Rosalee.", them="Tom", owner_name="Rosalee Fleming", style=None) == (
        "Hi Tom,\n\nI met Rosalee.\n\nBest,\nRosalee"
    )  # a name inside the sentence is content


def test_the_owners_sign_off_run_into_the_last_sentence_is_not_signed_twice() -> None:
    card = StyleCard(
        samples=70,
        greetings=[Share(text="Hi {name},", share=0.66)],
        signoffs=[Share(text="— D", share=0.6), Share(text="Thanks, Dana", share=0.27)],
    )
    run_in = "Hi Alex,\n\nCould you send more details? — D\n\n— D"
    assert finish_reply(run_in, them="Alex", owner_name="Dana Reyes", style=card) == (
        "Hi Alex,\n\nCould you send more details?\n\n— D"
    )
