"""The data directory: every piece of one twin's state lives under one folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from persona.errors import NotReady


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("persona-twin", appauthor=False))


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def profile_path(self) -> Path:
        return self.root / "persona.yaml"

    @property
    def memory_dir(self) -> Path:
        return self.root / "memory"

    @property
    def style_card_path(self) -> Path:
        return self.memory_dir / "style_card.json"

    @property
    def chroma_dir(self) -> Path:
        """Embedded Chroma's files, unless PERSONA_CHROMA_URL names a Chroma server."""
        return self.memory_dir / "chroma"

    @property
    def keywords_db(self) -> Path:
        """The memory's keyword index (FTS5), beside its vectors."""
        return self.memory_dir / "keywords.sqlite"

    @property
    def state_db(self) -> Path:
        return self.root / "state.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        return self.root / "checkpoints.sqlite"

    @property
    def jobs_db(self) -> Path:
        """The scheduler's job store, unless PERSONA_JOBS_DB_URL names a database server."""
        return self.root / "jobs.sqlite"

    @property
    def usage_db(self) -> Path:
        """LLM calls and tokens per job and day (persona.llm.usage)."""
        return self.root / "usage.sqlite"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def mail_dir(self) -> Path:
        """Embedded mail backend: a Maildir++ tree (inbox is the root, .Drafts and .Sent beside)."""
        return self.root / "mail"

    @property
    def calendar_dir(self) -> Path:
        return self.root / "calendar"

    def ensure(self) -> Home:
        for path in (self.root, self.memory_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def require_profile(self) -> Path:
        if not self.profile_path.exists():
            raise NotReady(
                f"no persona profile in {self.root}; run `persona init --name NAME --email ADDR` first"
            )
        return self.profile_path


def resolve_home(explicit: Path | None, env_home: Path | None) -> Home:
    """--home wins over PERSONA_HOME, which wins over the per-user data dir."""
    root = explicit or env_home or default_home()
    return Home(root.expanduser().resolve())
