"""Tokens: random, stored only as argon2 hashes, revocable, rotated; and the CLI that hands them out."""

from __future__ import annotations

import re
import sqlite3

from server_helpers import new_home
from typer.testing import CliRunner

from persona.server.tokens import TokenStore


def test_tokens_are_stored_hashed_and_checked(tmp_path):
    store = TokenStore(tmp_path / "state.sqlite")
    token = store.issue("invite", "Sam@Northwind.example")
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        (stored,) = db.execute("SELECT hash FROM access_tokens").fetchone()
    secret = token.split("_", 2)[2]
    assert stored.startswith("$argon2id$") and secret not in stored
    assert store.check(token).address == "sam@northwind.example"
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")  # wrong secret, same id
    assert store.check(forged) is None and store.live(token.split("_")[1]) is not None
    assert store.check("pt_nope") is None and store.check("") is None
    assert store.issue("invite", "sam@northwind.example") != token  # random each time


def test_revoking_an_invite_takes_effect_in_a_running_process(tmp_path):
    store = TokenStore(tmp_path / "state.sqlite")
    token = store.issue("invite", "sam@northwind.example")
    assert store.check(token) is not None
    assert TokenStore(tmp_path / "state.sqlite").revoke("sam@northwind.example") == 1  # e.g. from the CLI
    assert store.check(token) is None and store.live(token.split("_")[1]) is None


def test_a_new_owner_token_retires_the_old_one(tmp_path):
    store = TokenStore(tmp_path / "state.sqlite")
    first = store.issue("owner")
    second = store.issue("owner")
    assert store.check(first) is None and store.check(second).kind == "owner"


def test_cli_invite_token_and_revoke(tmp_path):
    from persona.cli import _register, cli

    _register()
    home = new_home(tmp_path / "home")
    runner = CliRunner()
    invited = runner.invoke(
        cli, ["--home", str(home.root), "invite", "sam@northwind.example", "--url", "http://127.0.0.1:9000"]
    )
    assert invited.exit_code == 0, invited.output
    token = re.search(r"http://127\.0\.0\.1:9000/join#(pt_\S+)", invited.output).group(1)
    store = TokenStore(home.state_db)
    assert (
        store.check(token).address == "sam@northwind.example" and "Sam Okafor (colleague)" in invited.output
    )
    owner = runner.invoke(cli, ["--home", str(home.root), "token", "owner"])
    assert store.check(owner.output.split()[0]).kind == "owner"
    refused = runner.invoke(cli, ["--home", str(home.root), "invite", "dana@northwind.example"])
    assert refused.exit_code != 0
    revoked = runner.invoke(cli, ["--home", str(home.root), "invite", "--revoke", "sam@northwind.example"])
    assert revoked.exit_code == 0 and "Revoked 1 invite" in revoked.output
    assert store.check(token) is None
