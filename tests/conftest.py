"""Shared fixtures: an environment of the tests' own, a throwaway home with a small profile, and the CI
rule for missing servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci import need
from fake_embedder import HashedWordsEmbedder

from persona.app import App
from persona.errors import NotReady
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.model_files import prepare_model
from persona.llm.native import prepare_native
from persona.llm.server import LocalServer
from persona.profile import Profile, save_profile

PROFILE = {
    "owner": {
        "name": "Dana Reyes",
        "emails": ["dana@northwind.example"],
        "role": "Engineering lead",
        "organization": "Northwind",
        "timezone": "Europe/Berlin",
    },
    "people": [
        {
            "name": "Sam Okafor",
            "emails": ["sam@northwind.example"],
            "relationship": "direct report",
            "role": "colleague",
        },
        {"name": "Alex Reyes", "emails": ["alex@home.example"], "relationship": "partner", "role": "family"},
        {"name": "Kim Vendor", "emails": ["kim@vendor.example"], "role": "contact"},
    ],
    "boundaries": [{"topic": "compensation", "keywords": ["salary", "compensation", "raise"]}],
    "approval_rules": [{"action": "send_mail", "to": ["role:family"]}],
}


# Variables Settings reads besides PERSONA_*: its aliases for an OpenAI-compatible endpoint.
SETTINGS_ALIASES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")
# Never a download from a model hub, whoever runs the tests (`make test` exports the same).
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


@pytest.fixture(scope="session", autouse=True)
def own_environment() -> Iterator[None]:
    """Settings() sees only what a test sets (with monkeypatch): none of the caller's PERSONA_* or endpoint
    variables, for this process and the commands tests start."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("PERSONA_") or n in SETTINGS_ALIASES]:
            patch.delenv(name)
        for name, value in OFFLINE.items():
            patch.setenv(name, value)
        yield


@pytest.fixture
def fake_embeddings(monkeypatch: pytest.MonkeyPatch) -> HashedWordsEmbedder:
    """Every App of the test embeds with hashed words instead of loading the sentence model: for tests of
    what the twin does with its memory, not of how well the model ranks it."""
    fake = HashedWordsEmbedder()
    monkeypatch.setattr(App, "embedder", property(lambda _app: fake))
    return fake


@pytest.fixture
def profile() -> Profile:
    return Profile.model_validate(PROFILE)


@pytest.fixture
def home(tmp_path: Path, profile: Profile) -> Home:
    home = Home(tmp_path / "home").ensure()
    save_profile(profile, home.profile_path)
    return home


# ---- the real local model and server -----------------------------------------------------


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache dir whose model is a link to the packaged GGUF in the user cache.

    The packaged model is joined and llama.cpp built once into the user cache (later runs only stat
    them); the server record lives here, so tests neither reuse nor stop a server the user is running.
    """
    try:
        shared = prepare_model()
        prepare_native()
    except NotReady as exc:
        need(False, str(exc))
        raise
    cache = tmp_path_factory.mktemp("cache")
    (cache / "models").mkdir()
    for name in (shared.name, shared.name + ".sha256"):
        (cache / "models" / name).symlink_to(shared.with_name(name))
    return cache


@pytest.fixture(scope="session")
def local_model(model_cache: Path) -> Path:
    return prepare_model(model_cache)


@pytest.fixture(scope="session")
def local_server(local_model: Path, model_cache: Path) -> Iterator[LocalServer]:
    """The real llama.cpp server for this test session, recorded in the private cache."""
    server = LocalServer(
        local_model, state_path=model_cache / "server.json", log_path=model_cache / "llama-server.log"
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_llm(local_server: LocalServer) -> LLM:
    # generous timeout: CI machines may be slow and shared
    return LLM.for_endpoint(local_server.base_url, local=True, temperature=0.0, timeout=600, max_retries=0)
