"""Knobs of the HTTP server, given to `create_app`; defaults suit one owner and a few colleagues."""

from pydantic import BaseModel, Field


class ServerConfig(BaseModel):
    chat_per_minute: float = Field(default=20, gt=0, description="Chat turns per principal per minute.")
    chat_burst: int = Field(default=5, ge=1)
    api_per_minute: float = Field(default=240, gt=0, description="Other API calls per principal per minute.")
    api_burst: int = Field(default=60, ge=1)
    secure_cookies: bool = Field(default=False, description="Set when served over HTTPS (behind a proxy).")
    warm_up: bool = Field(
        default=True, description="Load memory and the model before serving, not on the first chat."
    )
