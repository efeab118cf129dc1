"""The web chat channel: HTTP messages become Events; REPLY_CHAT actions are delivered to the session."""

from persona.channels.chat.channel import ChatChannel
from persona.channels.chat.sessions import SessionIndex, SessionInfo, principal_key

__all__ = ["ChatChannel", "SessionIndex", "SessionInfo", "principal_key"]
