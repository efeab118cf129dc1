"""One settings model for the whole process, read from the environment, in sections.

Each section is read under its own prefix, so the variables keep their flat names: `settings.llm.base_url`
is PERSONA_LLM_BASE_URL (or OPENAI_BASE_URL), `settings.mail.imap_host` PERSONA_MAIL_IMAP_HOST,
`settings.limits.chat_limit` PERSONA_CHAT_LIMIT. A section is read when `Settings()` is made, unless it
is given (`Settings(llm=LLMSettings(base_url=...))`). The channels' sections (mail, CalDAV) live here,
in the core, so that one Settings holds them all; the channels read them from `App.settings`.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from persona.errors import ConfigError
from persona.input_limits import IngestLimits


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore")


class LLMSettings(BaseSettings):
    """The model: an OpenAI-compatible endpoint, or the packaged one served locally (PERSONA_LLM_*)."""

    model_config = _section("PERSONA_LLM_")

    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PERSONA_LLM_BASE_URL", "OPENAI_BASE_URL", "base_url"),
        description="OpenAI-compatible endpoint; unset means the packaged local model.",
    )
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PERSONA_LLM_API_KEY", "OPENAI_API_KEY", "api_key")
    )
    model: str = Field(
        default="qwen2.5-coder-1.5b-instruct",
        validation_alias=AliasChoices("PERSONA_LLM_MODEL", "OPENAI_MODEL", "model"),
    )
    timeout: float = 180.0
    threads: int | None = None
    idle_timeout: float = Field(
        default=900.0,
        gt=0,
        description="Seconds the local model server stays up without requests once no persona process uses it.",
    )
    model_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PERSONA_MODEL_PATH", "model_path"),
        description="A GGUF to serve locally instead of the packaged model.",
    )


class CalDAVSettings(BaseSettings):
    """The calendar channel's server (PERSONA_CALDAV_*); no URL means the ICS calendar in the home."""

    model_config = _section("PERSONA_CALDAV_")

    url: str | None = Field(
        default=None, description="CalDAV server; unset means the ICS calendar in the home."
    )
    username: str | None = None
    password: SecretStr | None = None
    calendar: str | None = Field(default=None, description="Calendar name on the CalDAV server.")


Security = Literal["ssl", "starttls", "none"]

_DEFAULT_PORTS = {
    "imap": {"ssl": 993, "starttls": 143, "none": 143},
    "smtp": {"ssl": 465, "starttls": 587, "none": 25},
}


class MailSettings(BaseSettings):
    """The email channel (PERSONA_MAIL_*): the embedded Maildir by default, or a real IMAP/SMTP account.
    Passwords are SecretStr: never shown by repr, logs or error messages."""

    model_config = _section("PERSONA_MAIL_")

    backend: Literal["maildir", "imap"] = "maildir"
    imap_host: str = ""
    imap_port: int | None = None
    imap_security: Security = "ssl"
    imap_user: str = ""
    imap_password: SecretStr | None = None
    imap_password_file: Path | None = None
    # Folders watched for new mail; comma-separated in the environment.
    imap_folders: Annotated[list[str], NoDecode] = ["INBOX"]
    smtp_host: str = ""
    smtp_port: int | None = None
    smtp_security: Security = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = None
    # A CA bundle or a self-signed certificate to trust (self-hosted servers); unset: the system's CAs.
    tls_ca_file: Path | None = None
    timeout: float = 30.0

    @field_validator("imap_folders", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return (
            [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        )

    @model_validator(mode="after")
    def _imap_complete(self) -> MailSettings:
        if self.backend == "imap":
            for key in ("imap_host", "imap_user", "smtp_host"):
                if not getattr(self, key):
                    raise ValueError(f"PERSONA_MAIL_{key.upper()} is required when PERSONA_MAIL_BACKEND=imap")
            if self.imap_password is None and self.imap_password_file is None:
                raise ValueError("set PERSONA_MAIL_IMAP_PASSWORD or PERSONA_MAIL_IMAP_PASSWORD_FILE")
        return self

    @property
    def imap_port_or_default(self) -> int:
        return self.imap_port or _DEFAULT_PORTS["imap"][self.imap_security]

    @property
    def smtp_port_or_default(self) -> int:
        return self.smtp_port or _DEFAULT_PORTS["smtp"][self.smtp_security]

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name are always verified; only the trusted CAs can be changed."""
        return ssl.create_default_context(cafile=str(self.tls_ca_file) if self.tls_ca_file else None)

    def imap_secret(self) -> str:
        return _secret(self.imap_password, self.imap_password_file, "IMAP")

    def smtp_secret(self) -> str:
        """SMTP falls back to the IMAP password: most providers use one account for both."""
        if self.smtp_password is None and self.smtp_password_file is None:
            return self.imap_secret()
        return _secret(self.smtp_password, self.smtp_password_file, "SMTP")


def _secret(value: SecretStr | None, path: Path | None, what: str) -> str:
    if value is not None:
        return value.get_secret_value()
    if path is None:
        return ""
    try:
        return path.expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} password file {path}: {exc.strerror}") from None


class IngestSettings(BaseSettings, IngestLimits):
    """What ingest reads at all (PERSONA_INGEST_MAX_*): the limits themselves, read from the environment."""

    model_config = _section("PERSONA_INGEST_MAX_")


class LimitSettings(BaseSettings):
    """How much the server takes: request size, calls and chat turns per person, sign-in failures, sessions."""

    model_config = _section("PERSONA_")

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


class Settings(BaseSettings):
    """Every setting: where things are kept at the top, the rest in sections."""

    # A flat name of old (Settings(chat_limit=...)) fails instead of being ignored; the environment's
    # other PERSONA_ variables are the sections' to read.
    model_config = SettingsConfigDict(env_prefix="PERSONA_", extra="forbid")

    home: Path | None = Field(default=None, description="Data directory of this twin.")
    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset means embedded.")
    embedding_model: str | None = Field(
        default=None, description="Path of a sentence-transformers model; unset means the packaged one."
    )
    jobs_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the scheduler's job store (postgresql+psycopg://…); unset: SQLite in the home.",
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    caldav: CalDAVSettings = Field(default_factory=CalDAVSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)


_PREFIXES = {
    model.__name__: model.model_config.get("env_prefix", "")
    for model in (Settings, LLMSettings, MailSettings, CalDAVSettings, IngestSettings, LimitSettings)
}


def load_settings() -> Settings:
    """Read settings; a bad value is reported naming its environment variable, never its value."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_named(exc)) from None


def _named(exc: ValidationError) -> str:
    """The first error as `VARIABLE: what is wrong`. Each section reads its own variables, so an error is
    its section's: the variable is that section's prefix and the field (or the field's alias, a name)."""
    err = exc.errors()[0]
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:  # a check of the whole section: its message names the variables
        return message
    field = str(err["loc"][0])
    variable = field if field.isupper() else _PREFIXES.get(exc.title, "PERSONA_") + field.upper()
    return f"{variable}: {message}"


def default_cache_dir() -> Path:
    """Rebuildable files shared by every home: the joined local model, the embedding model's export."""
    return Path(platformdirs.user_cache_dir("persona-twin", appauthor=False))
