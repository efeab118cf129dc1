"""Tests run on an environment of their own (tests/conftest.py): Settings() is its defaults plus what a
test sets, whatever the caller exported."""

from __future__ import annotations

import os

import pytest

from persona.errors import ConfigError
from persona.settings import Settings, load_settings


def test_settings_are_the_defaults_whatever_the_caller_exported():
    assert not [name for name in os.environ if name.startswith("PERSONA_")]
    assert not {"OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL"} & set(os.environ)  # Settings' aliases
    settings = Settings()
    for name, field in Settings.model_fields.items():
        assert getattr(settings, name) == field.get_default(call_default_factory=True), name


def test_a_variable_a_test_sets_is_read(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PERSONA_CHAT_LIMIT", "every now and then")
    with pytest.raises(ConfigError, match="PERSONA_CHAT_LIMIT"):
        load_settings()


def test_each_section_reads_the_variables_users_already_set(monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "PERSONA_HOME": "/srv/twin",
        "OPENAI_BASE_URL": "http://gpu.lan:8000/v1",
        "OPENAI_MODEL": "qwen-7b",
        "PERSONA_LLM_TIMEOUT": "30",
        "PERSONA_MODEL_PATH": "/models/own.gguf",
        "PERSONA_CHROMA_URL": "http://chroma.lan:8000",
        "PERSONA_CALDAV_URL": "https://dav.example/cal",
        "PERSONA_MAIL_IMAP_FOLDERS": "INBOX, Work",
        "PERSONA_INGEST_MAX_MIME_PARTS": "40",
        "PERSONA_CHAT_LIMIT": "5/minute",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert str(settings.home) == "/srv/twin" and settings.chroma_url == "http://chroma.lan:8000"
    assert (settings.llm.base_url, settings.llm.model, settings.llm.timeout) == (
        "http://gpu.lan:8000/v1",
        "qwen-7b",
        30,
    )
    assert str(settings.llm.model_path) == "/models/own.gguf"
    assert settings.caldav.url == "https://dav.example/cal" and settings.mail.imap_folders == [
        "INBOX",
        "Work",
    ]
    assert settings.ingest.mime_parts == 40 and settings.limits.chat_limit == "5/minute"
    monkeypatch.setenv("PERSONA_LLM_BASE_URL", "http://mine/v1")  # persona's own name wins over OpenAI's
    assert load_settings().llm.base_url == "http://mine/v1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PERSONA_LLM_TIMEOUT", "soon"),
        ("PERSONA_INGEST_MAX_MAIL_BYTES", "0"),
        ("PERSONA_MAIL_IMAP_PORT", "x"),
    ],
)
def test_a_bad_value_in_a_section_names_its_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}: "):
        load_settings()


def test_a_flat_name_of_old_fails_instead_of_being_ignored():
    with pytest.raises(ValueError, match="chat_limit"):
        Settings(chat_limit="1/second")  # type: ignore[call-arg]
