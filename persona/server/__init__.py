"""The always-on HTTP service: chat for colleagues, a dashboard and API for the owner."""

from persona.server.app import LifespanHook, create_app
from persona.server.config import ServerConfig

__all__ = ["LifespanHook", "ServerConfig", "create_app"]
