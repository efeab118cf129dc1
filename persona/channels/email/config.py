"""Mail settings (prefix PERSONA_MAIL_): the embedded Maildir by default, or a real IMAP/SMTP account."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Literal

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from persona.errors import ConfigError

Security = Literal["ssl", "starttls", "none"]

_DEFAULT_PORTS = {
    "imap": {"ssl": 993, "starttls": 143, "none": 143},
    "smtp": {"ssl": 465, "starttls": 587, "none": 25},
}


class EmailSettings(BaseSettings):
    """Passwords are SecretStr: never shown by repr, logs or error messages."""

    model_config = SettingsConfigDict(env_prefix="PERSONA_MAIL_", extra="ignore")

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
    def _imap_complete(self) -> EmailSettings:
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


def load_email_settings(**overrides: object) -> EmailSettings:
    """Read mail settings; a bad value is reported naming its environment variable, never its value."""
    try:
        return EmailSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["loc"]:
            raise ConfigError(f"PERSONA_MAIL_{str(err['loc'][0]).upper()}: {err['msg']}") from None
        raise ConfigError(str(err["msg"]).removeprefix("Value error, ")) from None
