"""Test doubles for the LLM layer: fake model parts, a stub OpenAI-compatible endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from persona.llm.model_files import ModelSpec

# ---- fake model parts -------------------------------------------------------------------


@dataclass
class FakeParts:
    spec: ModelSpec
    root: Path
    contents: list[bytes]

    def part_file(self, n: int) -> Path:
        return self.root / f"{self.spec.package_prefix}{n}" / "data" / f"part{n:02d}.bin"


@dataclass
class StubEndpoint:
    """A loopback HTTP server that answers like llama-cpp-python's: chat completions from `answers`."""

    url: str
    port: int = 0
    model_ids: list[str] = field(default_factory=list)  # what GET /v1/models lists
    requests: list[dict] = field(default_factory=list)
    answers: list[Callable[[dict], tuple[int, dict]]] = field(default_factory=list)


def completion(content: str, prompt_tokens: int = 7, completion_tokens: int = 3) -> dict:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def slow(seconds: float, answer: tuple[int, dict]) -> Callable[[dict], tuple[int, dict]]:
    def handler(_body: dict) -> tuple[int, dict]:
        time.sleep(seconds)
        return answer

    return handler
