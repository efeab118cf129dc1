"""`LLM`: the one path from the twin to any chat model, local or hosted."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import openai
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, convert_to_messages
from langchain_core.messages.ai import UsageMetadata
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr, ValidationError

from persona.errors import LLMUnavailable
from persona.home import Home
from persona.llm.server import ensure_local_server
from persona.settings import Settings

T = TypeVar("T", bound=BaseModel)

# llama.cpp's server ignores the key, but the openai client insists on one.
LOCAL_API_KEY = "local"


class Usage(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


UsageHook = Callable[[str, Usage], None]


class LLM:
    """Text, streamed text and schema-checked JSON from one chat model, with usage per tag.

    `local` selects how JSON output is constrained: llama.cpp's server takes a JSON schema
    inside `{"type": "json_object"}`, which every version of it reads (llama-cpp-python's answered
    `json_schema` with HTTP 500), without the length limits its grammar cannot hold; hosted
    endpoints take the standard `json_schema` response format.
    """

    def __init__(self, chat_model: BaseChatModel, *, local: bool, url: str | None = None) -> None:
        self.chat_model = chat_model
        self.local = local
        self.url = url
        self.usage: dict[str, Usage] = {}
        # Called after every call with that call's usage (calls=1), e.g. to append to a ledger.
        self.on_usage: UsageHook | None = None
        # Builds a fresh LLM when the endpoint refuses connections (set for the shared local server).
        self.revive: Callable[[], LLM] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, home: Home) -> LLM:
        """A hosted endpoint when `llm.base_url` is set, else the packaged model on a local server."""
        if settings.llm.base_url is None:
            url, local = ensure_local_server(settings, home), True
        else:
            url, local = settings.llm.base_url, False
        llm = cls.for_endpoint(
            url,
            local=local,
            api_key=settings.llm.api_key,
            model=settings.llm.model,
            timeout=settings.llm.timeout,
        )
        if local:
            llm.revive = lambda: cls.from_settings(settings, home)
        return llm

    @classmethod
    def for_endpoint(
        cls,
        url: str,
        *,
        local: bool,
        api_key: SecretStr | None = None,
        model: str = "local",
        timeout: float = 180.0,
        temperature: float = 0.3,
        max_retries: int = 1,
    ) -> LLM:
        """An LLM for one OpenAI-compatible endpoint (`local`: the packaged llama.cpp server)."""
        chat_model = ChatOpenAI(
            base_url=url,
            api_key=api_key or SecretStr(LOCAL_API_KEY),
            model=model,
            temperature=temperature,
            timeout=timeout,
            # The first streamed chunk comes after the whole prompt is read: a cold persona prefix on a
            # busy CPU takes minutes, past langchain's own 120 s default between chunks.
            stream_chunk_timeout=timeout,
            max_retries=max_retries,
            use_responses_api=False,  # llama.cpp and most compatible servers speak chat completions only
            stream_usage=True,
            # langchain-openai shares one async HTTP client per URL in the process; a kept-alive
            # connection from an event loop that has ended ("Event loop is closed") breaks the next
            # asyncio.run(). A fresh connection per request costs little next to an LLM call.
            default_headers={"Connection": "close"},
        )
        return cls(chat_model, local=local, url=url)

    def text(
        self,
        messages: LanguageModelInput,
        *,
        max_tokens: int | None = None,
        tag: str = "default",
        temperature: float | None = None,
    ) -> str:
        """The answer's text; `temperature` overrides the model's own for this call (0: the same
        prompt gets the same answer)."""
        sampling = {} if temperature is None else {"temperature": temperature}
        reply = self._invoke(messages, **self._limits(max_tokens), **sampling)
        self._count(tag, reply)
        return reply.text

    async def atext(
        self, messages: LanguageModelInput, *, max_tokens: int | None = None, tag: str = "default"
    ) -> str:
        reply = await self._ainvoke(messages, **self._limits(max_tokens))
        self._count(tag, reply)
        return reply.text

    async def astream(
        self, messages: LanguageModelInput, *, max_tokens: int | None = None, tag: str = "default"
    ) -> AsyncIterator[str]:
        """Yield the answer as it is generated; usage is counted when the stream ends."""
        chunks = 0
        usage: UsageMetadata | None = None
        with self._mapped_errors():
            async for chunk in self.chat_model.astream(messages, **self._limits(max_tokens)):
                usage = chunk.usage_metadata or usage
                if chunk.text:
                    chunks += 1
                    yield chunk.text
        # A server that sends no usage when streaming streams one token per chunk (llama.cpp does).
        self._count(tag, AIMessage(content="", usage_metadata=usage or _output_only(chunks)))

    def json(
        self,
        messages: LanguageModelInput,
        schema: type[T],
        *,
        max_tokens: int | None = None,
        tag: str = "default",
        temperature: float | None = None,
    ) -> T:
        """An instance of `schema` generated under that schema; one retry if the output is invalid.
        `temperature` as in `text`."""
        attempts, options = _JsonAttempts(messages, schema), self._json_options(schema, max_tokens)
        if temperature is not None:
            options["temperature"] = temperature
        while attempts.prompt is not None:
            attempts.read(self._counted(tag, self._json_reply(attempts.prompt, options)))
        return self._parsed(attempts)

    async def ajson(
        self,
        messages: LanguageModelInput,
        schema: type[T],
        *,
        max_tokens: int | None = None,
        tag: str = "default",
    ) -> T:
        attempts, options = _JsonAttempts(messages, schema), self._json_options(schema, max_tokens)
        while attempts.prompt is not None:
            attempts.read(self._counted(tag, await self._ajson_reply(attempts.prompt, options)))
        return self._parsed(attempts)

    async def apick_tool(
        self, messages: LanguageModelInput, tools: list[tuple[str, str, dict[str, Any]]]
    ) -> str:
        """The name of the tool a model with native tool calling picks among `tools` (name, description,
        JSON schema of its arguments); "" when it picks none. Only the choice is used: arguments are read
        by the skills' own rules."""
        specs = [
            {"type": "function", "function": {"name": name, "description": about, "parameters": schema}}
            for name, about, schema in tools
        ]
        bound = self.chat_model.bind_tools(specs, tool_choice="required")
        with self._mapped_errors():
            reply = await bound.ainvoke(messages)
        self._count("route", reply)
        calls = getattr(reply, "tool_calls", None) or []
        return calls[0]["name"] if calls else ""

    def _json_options(self, schema: type[BaseModel], max_tokens: int | None) -> dict[str, Any]:
        return {"response_format": self._response_format(schema), **self._limits(max_tokens)}

    # Under a response_format the openai client raises on a cut-off answer; it is read as one (see _cut_off).
    def _json_reply(self, prompt: list[BaseMessage], options: dict[str, Any]) -> AIMessage:
        try:
            return self._invoke(prompt, **options)
        except openai.LengthFinishReasonError as exc:
            return _cut_off(exc)

    async def _ajson_reply(self, prompt: list[BaseMessage], options: dict[str, Any]) -> AIMessage:
        try:
            return await self._ainvoke(prompt, **options)
        except openai.LengthFinishReasonError as exc:
            return _cut_off(exc)

    def _parsed(self, attempts: _JsonAttempts[T]) -> T:
        if attempts.parsed is None:
            raise self._invalid(attempts.schema, attempts.problem)
        return attempts.parsed

    def _invoke(self, messages: LanguageModelInput, **options: Any) -> AIMessage:
        try:
            with self._mapped_errors():
                return self.chat_model.invoke(messages, **options)
        except LLMUnavailable as exc:
            if not self._revived(exc):
                raise
        with self._mapped_errors():
            return self.chat_model.invoke(messages, **options)

    async def _ainvoke(self, messages: LanguageModelInput, **options: Any) -> AIMessage:
        try:
            with self._mapped_errors():
                return await self.chat_model.ainvoke(messages, **options)
        except LLMUnavailable as exc:
            if not await asyncio.to_thread(self._revived, exc):
                raise
        with self._mapped_errors():
            return await self.chat_model.ainvoke(messages, **options)

    def _revived(self, exc: LLMUnavailable) -> bool:
        """The shared local server was refused: the process that started it may have exited. Start or
        find one again (once per call); a timeout is not a reason, the server is alive but slow."""
        cause = exc.__cause__
        if (
            self.revive is None
            or not isinstance(cause, openai.APIConnectionError)
            or isinstance(cause, openai.APITimeoutError)
        ):
            return False
        fresh = self.revive()
        self.chat_model, self.url = fresh.chat_model, fresh.url
        return True

    def _limits(self, max_tokens: int | None) -> dict[str, Any]:
        if max_tokens is None:
            return {}
        # langchain-openai sends max_tokens as max_completion_tokens, which older llama.cpp servers
        # ignore (they would generate up to n_ctx); the old name in the body works for every version.
        return {"extra_body": {"max_tokens": max_tokens}} if self.local else {"max_tokens": max_tokens}

    def _response_format(self, schema: type[BaseModel]) -> dict[str, Any]:
        json_schema = schema.model_json_schema()
        if self.local:
            return {"type": "json_object", "schema": _grammar_safe(json_schema)}
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)  # e.g. Page[Item] is not a valid name
        return {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema, "strict": False}}

    def _count(self, tag: str, reply: AIMessage) -> None:
        meta = reply.usage_metadata or {}
        usage = Usage(
            calls=1, prompt_tokens=meta.get("input_tokens", 0), completion_tokens=meta.get("output_tokens", 0)
        )
        self.usage.setdefault(tag, Usage()).add(usage)
        if self.on_usage is not None:
            self.on_usage(tag, usage)

    def _counted(self, tag: str, reply: AIMessage) -> AIMessage:
        self._count(tag, reply)
        return reply

    @property
    def _where(self) -> str:
        return f"the LLM at {self.url}" if self.url else "the LLM"

    def _invalid(self, schema: type[BaseModel], problem: str) -> LLMUnavailable:
        return LLMUnavailable(f"{self._where} answered invalid {schema.__name__} JSON twice: {problem}")

    @contextmanager
    def _mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except openai.APIError as exc:
            raise LLMUnavailable(f"{self._where} did not answer: {_reason(exc)}") from exc
        except TimeoutError as exc:  # langchain's stream_chunk_timeout
            raise LLMUnavailable(f"{self._where} did not answer: the request timed out") from exc


# llama.cpp turns `maxLength: N` into N nested optional rules; past a few hundred its grammar parser fails
# and the server process dies ("failed to parse grammar"). Longer limits are left to pydantic's check.
GRAMMAR_MAX_LENGTH = 200


def _grammar_safe(schema: Any) -> Any:
    """`schema` without the length limits llama.cpp's grammar cannot hold."""
    if isinstance(schema, dict):
        return {
            k: _grammar_safe(v)
            for k, v in schema.items()
            if not (k in ("maxLength", "maxItems") and isinstance(v, int) and v > GRAMMAR_MAX_LENGTH)
        }
    if isinstance(schema, list):
        return [_grammar_safe(v) for v in schema]
    return schema


class _JsonAttempts(Generic[T]):
    """The parse-and-correct loop of json/ajson without the call itself: while `prompt` is set, the caller
    sends it and hands the reply to `read`; two replies at most."""

    def __init__(self, messages: LanguageModelInput, schema: type[T]) -> None:
        self.schema = schema
        self.prompt: list[BaseMessage] | None = _as_messages(messages)
        self.parsed: T | None = None
        self.problem = ""
        self._left = 2

    def read(self, reply: AIMessage) -> None:
        assert self.prompt is not None, "read after the last attempt"
        self._left -= 1
        self.parsed, self.problem = _parse(reply, self.schema)
        done = self.parsed is not None or not self._left
        self.prompt = None if done else _with_correction(self.prompt, reply, self.problem)


def _cut_off(exc: openai.LengthFinishReasonError) -> AIMessage:
    """Under a response_format the openai client raises on a cut-off answer; keep it and its usage."""
    usage = exc.completion.usage
    return AIMessage(
        content=exc.completion.choices[0].message.content or "",
        usage_metadata=UsageMetadata(
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            total_tokens=usage.total_tokens if usage else 0,
        ),
        response_metadata={"finish_reason": "length"},
    )


def _output_only(tokens: int) -> UsageMetadata:
    return UsageMetadata(input_tokens=0, output_tokens=tokens, total_tokens=tokens)


def _as_messages(messages: LanguageModelInput) -> list[BaseMessage]:
    if isinstance(messages, str):
        return [HumanMessage(messages)]
    return convert_to_messages(messages)


def _parse(reply: BaseMessage, schema: type[T]) -> tuple[T | None, str]:
    if reply.response_metadata.get("finish_reason") == "length":
        return None, "the answer was cut off by max_tokens"
    text = reply.text.strip()
    if not text:
        return None, "the answer was empty"
    # Endpoints that ignore response_format tend to wrap JSON in a Markdown fence.
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    raw = fenced.group(1) if fenced else text
    try:
        return schema.model_validate_json(raw), ""
    except ValidationError as exc:
        try:  # a line break written raw inside a string (small models do): plain JSON's lenient reading takes it
            return schema.model_validate(json.loads(raw, strict=False)), ""
        except (ValueError, ValidationError):
            pass
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"]) or "answer"
        return None, f"{where}: {err['msg']}"


def _with_correction(prompt: list[BaseMessage], reply: BaseMessage, problem: str) -> list[BaseMessage]:
    """Keep the original prompt as the prefix (the server's cache reuses it) and say what was wrong."""
    return [
        *prompt,
        AIMessage(content=reply.text),
        HumanMessage(f"That answer was invalid ({problem}). Reply again with only the corrected JSON."),
    ]


def _reason(exc: openai.APIError) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "the request timed out"
    if isinstance(exc, openai.APIStatusError):
        detail = exc.message
    elif isinstance(exc, openai.APIConnectionError):
        detail = str(exc.__cause__ or exc)
    else:
        detail = str(exc)
    status = f"HTTP {exc.status_code}: " if isinstance(exc, openai.APIStatusError) else ""
    return status + " ".join(detail.split())[:200]
