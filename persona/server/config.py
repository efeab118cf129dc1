"""Knobs of the HTTP server, given to `create_app`; its limits are settings (persona/settings.py)."""

from pydantic import BaseModel, Field


class ServerConfig(BaseModel):
    secure_cookies: bool = Field(default=False, description="Set when served over HTTPS (behind a proxy).")
    warm_up: bool = Field(
        default=True, description="Load memory and the model before serving, not on the first chat."
    )
