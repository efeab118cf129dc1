"""The triage eval runner on a small synthetic set, and mail settings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from persona.errors import ConfigError
from persona.evals.triage import Label, covers, run_triage_eval
from persona.settings import MailSettings, load_settings


def _dataset(tmp_path):
    cases = [
        (
            "c1",
            "Ann <ann@firm.example>",
            "Contract",
            "Please review the contract by Friday.",
            "respond",
            "\n• Agree to review the contract\n• Mention Friday deadline\n",
        ),
        (
            "c2",
            "Deals <deals@shop.example>",
            "Sale",
            "50% off everything.",
            "ignore",
            "\n• No response needed\n",
        ),
        (
            "c3",
            "CI <ci@build.example>",
            "Build passed",
            "Build 42 passed.",
            "notify",
            "\n• No response needed\n",
        ),
    ]
    data = {
        "owner": "Lee Park <lee@firm.example>",
        "emails": [
            {
                "id": i,
                "email": {"author": a, "to": "Lee Park <lee@firm.example>", "subject": s, "email_thread": b},
                "triage": t,
                "response_criteria": c,
                "expected_tool_calls": [],
            }
            for i, a, s, b, t, c in cases
        ],
    }
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data))
    return path


def test_eval_scores_accuracy_confusion_and_coverage(tmp_path, make_app):
    reply = "Hi Ann,\n\nHappy to review the contract and send comments before the Friday deadline.\n\nLee"
    app, model = make_app(
        [
            '{"reason": "a request", "decision": "accept"}',
            reply,
            '{"kind": "notice, alert or reminder"}',  # the sale read as a notice: the one miss
        ]
    )
    report = run_triage_eval(app, _dataset(tmp_path))
    assert [r.predicted for r in report.results] == [Label.RESPOND, Label.NOTIFY, Label.NOTIFY]
    assert report.accuracy == pytest.approx(2 / 3)
    assert report.confusion()[Label.IGNORE][Label.NOTIFY] == 1
    assert report.results[0].covered == [True, True] and report.coverage == 1.0
    assert "Write Lee's reply to Ann" in model.calls[1][-1].text  # drafted as the dataset's owner
    assert app.store.ledger_keys("triage-correction:") == []


def test_keyword_coverage_needs_the_content_words():
    assert covers(
        "I will review the specs by Monday.", "Explicitly agree to review the technical specifications"
    )
    assert not covers("Thanks, noted.", "Explicitly agree to review the technical specifications")


def test_eval_cli_prints_matrix(tmp_path, home, make_app, monkeypatch):
    from persona.cli import evals
    from persona.settings import Settings

    app, _ = make_app(
        [
            '{"reason": "r", "decision": "accept"}',
            "Hi Ann,\n\nI will review the contract by Friday.\n\nLee",
            '{"kind": "marketing or newsletter"}',
        ]
    )
    monkeypatch.setattr(evals, "app_from", lambda ctx: app)
    out = CliRunner().invoke(
        evals.eval_cli, ["triage", str(_dataset(tmp_path))], obj={"home": home, "settings": Settings()}
    )
    assert out.exit_code == 0, out.output
    assert "accuracy: 100% (3/3)" in out.output and "confusion" in out.output


def test_mail_settings_hide_passwords_and_name_the_bad_key(monkeypatch, tmp_path):
    settings = MailSettings(imap_password="hunter2", imap_folders="INBOX, Work")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    assert settings.imap_folders == ["INBOX", "Work"]
    assert settings.imap_secret() == "hunter2"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    assert MailSettings(imap_password_file=secret).imap_secret() == "from-file"
    assert MailSettings(imap_password_file=secret).smtp_secret() == "from-file"
    monkeypatch.setenv("PERSONA_MAIL_BACKEND", "imap")
    with pytest.raises(
        ConfigError, match="^PERSONA_MAIL_IMAP_HOST is required when PERSONA_MAIL_BACKEND=imap$"
    ):
        load_settings()
    monkeypatch.setenv("PERSONA_MAIL_BACKEND", "maildir")
    monkeypatch.setenv("PERSONA_MAIL_IMAP_SECURITY", "tls-please")
    with pytest.raises(ConfigError, match="^PERSONA_MAIL_IMAP_SECURITY: "):
        load_settings()


def test_a_case_the_model_fails_is_reported_not_scored(tmp_path, make_app):
    from persona.errors import LLMUnavailable

    def timeout(_messages):
        raise LLMUnavailable("the request timed out")

    reply = "Hi Ann,\n\nI will review the contract by the Friday deadline.\n\nLee"
    app, _ = make_app(['{"reason": "r", "decision": "accept"}', reply, timeout])
    report = run_triage_eval(app, _dataset(tmp_path))
    assert [r.predicted for r in report.results] == [Label.RESPOND, None, Label.NOTIFY]
    assert "timed out" in report.results[1].error
    assert report.accuracy == 1.0 and len(report.answered) == 2
