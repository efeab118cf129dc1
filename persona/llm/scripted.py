"""A chat model that plays back a script: the fake LLM of unit tests and benchmarks."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

Reply = str | Callable[[list[BaseMessage]], str | AIMessage]  # a function may answer with a tool call


class ScriptExhausted(RuntimeError):
    """The code under test made more model calls than the test scripted."""


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the next scripted reply (a string, or a function of the prompt).

    Every prompt is recorded in `calls` and the keyword options it came with (for instance a
    bound `response_format`) in `options`. Token counts are whitespace words, so tests can
    check usage accounting with numbers they can work out by hand.
    """

    replies: list[Reply] = Field(default_factory=list)
    latency: float = 0.0
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    options: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next_reply(self, messages: list[BaseMessage], options: dict[str, Any]) -> AIMessage:
        self.calls.append(list(messages))
        self.options.append(options)
        if not self.replies:
            last = messages[-1].text if messages else ""
            raise ScriptExhausted(
                f"ScriptedChatModel has no reply left for call #{len(self.calls)} "
                f"(last message: {last[:80]!r})"
            )
        reply = self.replies.pop(0)
        content = reply(list(messages)) if callable(reply) else reply
        if isinstance(content, AIMessage):  # e.g. a tool call, as a model with native tool calling answers
            return content.model_copy(update={"usage_metadata": _usage(messages, content.text)})
        return AIMessage(content=content, usage_metadata=_usage(messages, content))

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        """Tools are only recorded (in `options`): the script decides what the model answers."""
        return self.bind(tools=tools, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        time.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=self._next_reply(messages, kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        await asyncio.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=self._next_reply(messages, kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        time.sleep(self.latency)
        yield from _chunks(self._next_reply(messages, kwargs))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        await asyncio.sleep(self.latency)
        for chunk in _chunks(self._next_reply(messages, kwargs)):
            yield chunk


def _words(text: str) -> int:
    return len(text.split())


def _usage(messages: list[BaseMessage], content: str) -> UsageMetadata:
    prompt = sum(_words(m.text) for m in messages)
    completion = _words(content)
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


def _chunks(message: AIMessage) -> Iterator[ChatGenerationChunk]:
    """One chunk per word (with its following space), usage on the last one, as OpenAI streams it."""
    pieces = re.findall(r"\S+\s*|\s+", message.text) or [""]
    for i, piece in enumerate(pieces):
        usage = message.usage_metadata if i == len(pieces) - 1 else None
        yield ChatGenerationChunk(message=AIMessageChunk(content=piece, usage_metadata=usage))
