"""The twin: persona + audience-filtered memory + skills, as a LangGraph graph."""
