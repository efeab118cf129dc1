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
