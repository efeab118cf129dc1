"""The LLM layer: `client.LLM` for any OpenAI-compatible endpoint, and the packaged local model behind it.

Nothing is imported here, so `persona.llm.model_files` stays cheap to import for the CLI.
"""
