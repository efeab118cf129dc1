from datetime import time
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
        (
            "owner:\n  name: Dana\n  emails: [d@x.example]\npeople:\n  - name: Sam\n    role: boss\n",
            "people.0.role",
        ),
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


OWNER = "owner:\n  name: Dana\n  emails: [d@x.example]\n"


@pytest.mark.parametrize(
    ("text", "field", "got"),
    [
        ("working_hours:\n  start: 9\n", "working_hours.start", "9"),  # not 00:00:09
        ("working_hours:\n  end: 17:30\n", "working_hours.end", "1050"),  # YAML 1.1 reads 17:30 as 1050
        ('working_hours:\n  start: "09:00:30"\n', "working_hours.start", "'09:00:30'"),
        ('working_hours:\n  start: "9:00"\n', "working_hours.start", "'9:00'"),
        ('schedule:\n  daily_brief_at: "25:00"\n', "schedule.daily_brief_at", "'25:00'"),
        ("schedule:\n  upkeep_at: 2.5\n", "schedule.upkeep_at", "2.5"),
    ],
)
def test_times_must_be_quoted_hh_mm(tmp_path: Path, text: str, field: str, got: str):
    path = tmp_path / "bad.yaml"
    path.write_text(OWNER + text)
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    message = str(err.value)
    assert f"field `{field}`" in message and '"HH:MM"' in message and f"got {got})" in message
    assert "\n" not in message


def test_a_profile_saved_with_seconds_still_loads_and_is_saved_as_hh_mm(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        OWNER + "working_hours:\n  start: '09:00:00'\n  end: '17:30:00'\n"
    )  # older save_profile output
    profile = load_profile(path)
    assert (profile.working_hours.start, profile.working_hours.end) == (time(9, 0), time(17, 30))
    save_profile(profile, path)
    assert "start: 09:00\n" in path.read_text() or "start: '09:00'\n" in path.read_text()


def test_times_are_read_and_written_as_hh_mm(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        OWNER + 'working_hours:\n  start: 08:15\n  end: "18:45"\n'
    )  # a leading 0 keeps it a string
    profile = load_profile(path)
    assert (profile.working_hours.start, profile.working_hours.end) == (time(8, 15), time(18, 45))
    assert profile.model_dump(mode="json")["working_hours"]["start"] == "08:15"
    save_profile(profile, path)
    assert load_profile(path) == profile
