"""Rules as a form's rows: read from the profile, checked by its models, written into its YAML text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from persona.errors import ConfigError
from persona.profile import load_profile
from persona.rules import Rules, TriageRow, read_rules, rules_of, with_rules

EXAMPLE = Path(__file__).resolve().parents[1] / "configs" / "example.yaml"
OWNER = "owner: {name: A, emails: [a@b.example]}\n"
RULES = Rules(
    triage=[TriageRow(match="sender", value="promo.example", label="ignore")],
    approval_rules=[{"action": "send_mail", "to": ["role:family"]}],
)


def test_rows_round_trip_through_the_example_profile_keeping_its_other_comments(tmp_path: Path):
    text = EXAMPLE.read_text()
    rules = rules_of(load_profile(EXAMPLE))
    assert ("keyword", "[FIRING]", "notify") in [(r.match, r.value, r.label) for r in rules.triage]
    edited = with_rules(text, rules)
    (tmp_path / "persona.yaml").write_text(edited)
    again = load_profile(tmp_path / "persona.yaml")
    assert rules_of(again) == rules and again == load_profile(EXAMPLE)
    outside = [line for line in text.splitlines() if line.startswith("#")]
    assert [line for line in edited.splitlines() if line.startswith("#")] == outside
    assert edited.index("approval_rules:") < edited.index("# --- Inbox triage") < edited.index("triage:")


def test_sections_are_written_in_place_added_at_the_end_or_dropped():
    assert with_rules(OWNER + "triage: {ignore_senders: [x@y]}\n# schedule\nschedule: {}\n", RULES) == (
        OWNER + "triage:\n  ignore_senders: [promo.example]\n# schedule\nschedule: {}\n"
        "approval_rules:\n- action: send_mail\n  to: ['role:family']\n"
    )
    assert (
        with_rules(
            OWNER + "triage:\n  ignore_senders:\n  - x@y\n# gone\n  notify_senders: []\n",
            Rules(triage=[], approval_rules=[]),
        )
        == OWNER
    )


def test_a_quoted_key_is_rewritten_in_place():
    assert with_rules(OWNER + '"triage": {ignore_senders: [x@y]}\nschedule: {}\n', RULES).startswith(
        OWNER + "triage:\n  ignore_senders: [promo.example]\nschedule: {}\n"
    )


def test_a_layout_the_line_edit_does_not_know_is_written_whole():
    text = '{"owner": {"name": "A", "emails": ["a@b.example"]}, "triage": {}}'  # a flow mapping at the top
    data = yaml.safe_load(with_rules(text, RULES))
    assert data == {
        "owner": {"name": "A", "emails": ["a@b.example"]},
        "triage": {"ignore_senders": ["promo.example"]},
        "approval_rules": [{"action": "send_mail", "to": ["role:family"]}],
    }


def test_a_bad_row_is_one_line_naming_the_rule_and_field():
    with pytest.raises(ConfigError, match=r"^approval rule 1, `to`: List should have at least 1 item"):
        read_rules({"triage": [], "approval_rules": [{"action": "send_mail", "to": []}]})
    with pytest.raises(ConfigError, match=r"^triage rule 1, `label`: Input should be 'ignore', 'notify' or"):
        read_rules({"triage": [{"match": "sender", "value": "x", "label": "archive"}], "approval_rules": []})
