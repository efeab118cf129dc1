from pathlib import Path

import pytest

from persona.errors import ConfigError
from persona.events import Principal
from persona.profile import Audience, Role, load_profile, save_profile


def test_round_trip(tmp_path: Path, profile):
    path = tmp_path / "p.yaml"
    save_profile(profile, path)
    assert load_profile(path) == profile


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("owner:\n  name: Dana\n  emails: [dana@x.example]\n  timezone: Mars/Olympus\n", "owner.timezone"),
        ("owner:\n  name: Dana\n  emails: [not-an-address]\n", "owner.emails"),
        ("owner:\n  name: Dana\n  emails: [d@x.example]\npeople:\n  - name: Sam\n    role: boss\n", "people.0.role"),
        ("owner:\n  name: Dana\n  emails: [d@x.example]\nsurprise: 1\n", "surprise"),
        ("owner: [unclosed\n", "not valid YAML at line"),
        ("- just\n- a list\n", "expected a mapping"),
        ("people: []\n", "owner"),
    ],
)
def test_bad_profile_names_the_field(tmp_path: Path, text: str, needle: str):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_principals_resolve(profile):
    assert Principal.resolve(profile, "DANA@northwind.example").is_owner
    sam = Principal.resolve(profile, "sam@northwind.example")
    assert sam.role is Role.COLLEAGUE and sam.audiences == {Audience.TEAM, Audience.PUBLIC}
    alex = Principal.resolve(profile, "alex@home.example")
    assert alex.role is Role.FAMILY and Audience.TEAM not in alex.audiences
    stranger = Principal.resolve(profile, "who@evil.example")
    assert stranger.role is Role.STRANGER and stranger.audiences == {Audience.PUBLIC}
