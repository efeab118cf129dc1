"""One settings model for the whole process, read from the environment (prefix PERSONA_)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from persona.errors import ConfigError
from persona.input_limits import CHAT_BYTES, MAIL_BYTES, MBOX_BYTES, MIME_PARTS, NOTE_BYTES, IngestLimits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERSONA_", extra="ignore")

    home: Path | None = Field(default=None, description="Data directory of this twin.")
    llm_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PERSONA_LLM_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint; unset means the packaged local model.",
    )
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PERSONA_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str = Field(
        default="qwen2.5-coder-1.5b-instruct",
        validation_alias=AliasChoices("PERSONA_LLM_MODEL", "OPENAI_MODEL"),
    )
    llm_timeout: float = 180.0
    llm_threads: int | None = None
    llm_idle_timeout: float = Field(
        default=900.0,
        gt=0,
        description="Seconds the local model server stays up without requests once no persona process uses it.",
    )
    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset means embedded.")
    model_path: Path | None = Field(
        default=None, description="A GGUF to serve locally instead of the packaged model."
    )
    jobs_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the scheduler's job store (postgresql+psycopg://…); unset: SQLite in the home.",
    )
    caldav_url: str | None = Field(
        default=None, description="CalDAV server; unset means the ICS calendar in the home."
    )
    caldav_username: str | None = None
    caldav_password: SecretStr | None = None
    caldav_calendar: str | None = Field(default=None, description="Calendar name on the CalDAV server.")
    embedding_model: str | None = Field(
        default=None, description="Path of a sentence-transformers model; unset means the packaged one."
    )
    max_request_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest HTTP request body `persona serve` reads; a larger one is answered 413 unread.",
    )
    owner_api_limit: str = Field(
        default="6000/minute", description="The owner's API calls (scripts too), in `limits` notation."
    )
    api_limit: str = Field(default="240/minute", description="API calls of each invited person.")
    chat_limit: str = Field(default="20/minute", description="Chat turns of each person, the owner too.")
    signin_failures_per_address: str = Field(
        default="10/minute;30/hour;100/day",
        description="Wrong secrets for real tokens from one client address (an IPv6 /64) before sign-in is refused.",
    )
    signin_failures_per_token: str = Field(
        default="5/minute;20/hour;50/day", description="Wrong secrets for one token id before it is refused."
    )
    session_days: int = Field(default=30, ge=1, le=365, description="How long a browser stays signed in.")
    ingest_max_mail_bytes: int = Field(
        default=MAIL_BYTES, ge=1, description="Largest message ingest reads (.eml, Maildir, one of an mbox)."
    )
    ingest_max_mbox_bytes: int = Field(
        default=MBOX_BYTES, ge=1, description="Largest mbox file ingest reads."
    )
    ingest_max_note_bytes: int = Field(
        default=NOTE_BYTES, ge=1, description="Largest .txt/.md note ingest reads."
    )
    ingest_max_chat_bytes: int = Field(
        default=CHAT_BYTES, ge=1, description="Largest chat export ingest reads."
    )
    ingest_max_mime_parts: int = Field(
        default=MIME_PARTS, ge=1, description="Most MIME parts of one message."
    )

    @field_validator(
        "owner_api_limit",
        "api_limit",
        "chat_limit",
        "signin_failures_per_address",
        "signin_failures_per_token",
    )
    @classmethod
    def _a_rate(cls, value: str) -> str:
        parse_many(value)  # "10/minute;30/hour": a ValueError names what it could not read
        return value

    def ingest_limits(self) -> IngestLimits:
        return IngestLimits(
            mail_bytes=self.ingest_max_mail_bytes,
            mbox_bytes=self.ingest_max_mbox_bytes,
            note_bytes=self.ingest_max_note_bytes,
            chat_bytes=self.ingest_max_chat_bytes,
            mime_parts=self.ingest_max_mime_parts,
        )


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value is reported naming its environment variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = "PERSONA_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(f"{key}: {err['msg']}") from None


def default_cache_dir() -> Path:
    """Rebuildable files shared by every home: the joined local model, the embedding model's export."""
    return Path(platformdirs.user_cache_dir("persona-twin", appauthor=False))
