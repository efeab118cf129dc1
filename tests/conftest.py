"""Shared fixtures: a throwaway home with a small profile, and the CI rule for missing servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from persona.home import Home
from persona.profile import Profile, save_profile

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

PROFILE = {
    "owner": {"name": "Dana Reyes", "emails": ["dana@northwind.example"], "role": "Engineering lead",
              "organization": "Northwind", "timezone": "Europe/Berlin"},
    "people": [
        {"name": "Sam Okafor", "emails": ["sam@northwind.example"], "relationship": "direct report", "role": "colleague"},
        {"name": "Alex Reyes", "emails": ["alex@home.example"], "relationship": "partner", "role": "family"},
        {"name": "Kim Vendor", "emails": ["kim@vendor.example"], "role": "contact"},
    ],
    "boundaries": [{"topic": "compensation", "keywords": ["salary", "compensation", "raise"]}],
    "approval_rules": [{"action": "send_mail", "to": ["role:family"]}],
}


def need(condition: bool, reason: str) -> None:
    """Skip on a user's machine when a real server is missing; on CI the same gap is a failure."""
    if not condition:
        if ON_CI:
            pytest.fail(f"CI must provide this: {reason}")
        pytest.skip(reason)


@pytest.fixture
def profile() -> Profile:
    return Profile.model_validate(PROFILE)


@pytest.fixture
def home(tmp_path: Path, profile: Profile) -> Home:
    home = Home(tmp_path / "home").ensure()
    save_profile(profile, home.profile_path)
    return home
