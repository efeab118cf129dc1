from __future__ import annotations

from pathlib import Path

from persona.memory.style import StyleCard, compute_style_card, greeting_of, signoff_of, style_features

CORPUS = [
    "Hi Sam,\n\nSounds good, let's do Tuesday. Let me know if the room is free.\n\nThanks,\nDana",
    "Hi Pat,\n\nI'll send the numbers tomorrow. Let me know if you need more.\n\nThanks,\nDana",
    "Hi Kim,\n\nWe can't sign before Friday; legal is still reading it.\n\nThanks,\nDana",
    "Hey all!\n\nLaunch moved to Friday — don't panic!\n\nCheers,\nD",
    "sure, works for me",
]


def test_greeting_templates() -> None:
    assert greeting_of("Hi Sam,\nbody") == "Hi {name},"
    assert greeting_of("Dear Dr. Okafor,\nbody") == "Dear {name},"
    assert greeting_of("Hey all!\nbody") == "Hey all!"
    assert greeting_of("Good morning team,\nbody") == "Good morning team,"
    assert greeting_of("Hi,\nbody") == "Hi,"
    assert greeting_of("History of the project is long.\nbody") == ""


def test_signoff_detection() -> None:
    assert signoff_of("body\n\nThanks,\nDana", "Dana Reyes") == "Thanks, Dana"
    assert signoff_of("body\n\nBest regards,\nDana Reyes", "Dana Reyes") == "Best regards, Dana Reyes"
    assert signoff_of("body\n-D", "Dana Reyes") == "-D"
    assert signoff_of("body\nCheers!", "Dana Reyes") == "Cheers!"
    assert signoff_of("body\nand that is all I have to say", "Dana Reyes") == ""


def test_style_card_on_small_corpus(tmp_path: Path) -> None:
    card = compute_style_card(CORPUS, "Dana Reyes")
    assert card.samples == 5
    assert [(g.text, g.share) for g in card.greetings] == [("Hi {name},", 0.6), ("Hey all!", 0.2)]
    assert [(s.text, s.share) for s in card.signoffs] == [("Thanks, Dana", 0.6), ("Cheers, D", 0.2)]
    assert card.words_p25 <= card.words_median <= card.words_p75
    assert card.words_median == 14  # 4, 10, 14, 15, 17 words
    assert card.contraction_rate > 0.05
    assert card.lowercase_start_rate > 0
    assert card.punctuation["em dash"] == 0.2 and card.punctuation["semicolon"] == 0.2
    assert "let me know" in card.phrases
    lines = card.prompt_lines()
    assert lines[0] == "Greets with: 'Hi {name},' (60%); 'Hey all!' (20%)"
    assert lines[1] == "Signs off: 'Thanks, Dana' (60%); 'Cheers, D' (20%)"
    assert lines[2].startswith("Typical length: ")

    path = tmp_path / "card.json"
    assert StyleCard.load(path) is None
    card.save(path)
    assert StyleCard.load(path) == card
    path.write_text("{broken")
    assert StyleCard.load(path) is None


def test_empty_corpus_gives_empty_card() -> None:
    card = compute_style_card(["", "  "], "Dana")
    assert card.samples == 0 and card.prompt_lines() == []


def test_style_features() -> None:
    feats = style_features(CORPUS[3])
    assert feats["greeting"] == 1.0 and feats["signoff"] == 1.0
    assert feats["exclamation_rate"] == 0.5  # "Hey all!" and "...don't panic!" of 4 lines/sentences
    assert feats["contraction_rate"] > 0
    plain = style_features("what time works? send me the deck.")
    assert plain["greeting"] == 0.0 and plain["signoff"] == 0.0
    assert plain["question_rate"] == 0.5 and plain["lowercase_start_rate"] == 1.0
    assert plain["words"] == 7


def test_body_of_drops_greeting_and_closing_lines_only() -> None:
    from persona.memory.style import body_of

    assert body_of("Hi Sam,\n\nYes, Tuesday.\n\n- room Orion\n\nThanks,\nDana", "Dana Reyes") == (
        "Yes, Tuesday.\n\n- room Orion"
    )
    assert body_of("Hi Sam, yes.\n— D", "Dana Reyes") == "Hi Sam, yes."  # a greeting with the answer stays
    assert body_of("Sure.", "Dana Reyes") == "Sure."
