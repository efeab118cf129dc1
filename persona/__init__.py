"""persona-twin: a local-first personal assistant twin that acts for its owner, in their voice, within their rules."""

__version__ = "0.1.0"
