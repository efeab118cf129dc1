"""Channels turn the outside world into Events and deliver Actions. They never call the LLM."""
