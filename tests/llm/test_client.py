"""LLM: text, streaming, schema-checked JSON with one retry, usage per tag, errors as one line."""

from __future__ import annotations

import asyncio
import socket
from typing import Literal

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from llm_fakes import StubEndpoint, completion, slow
from pydantic import BaseModel

from persona.errors import LLMUnavailable
from persona.home import Home
from persona.llm.client import LLM, Usage
from persona.llm.scripted import ScriptedChatModel, ScriptExhausted
from persona.settings import Settings


class Triage(BaseModel):
    label: Literal["reply", "notify", "ignore"]
    reason: str


def scripted(*replies: str, local: bool = True) -> tuple[LLM, ScriptedChatModel]:
    model = ScriptedChatModel(replies=list(replies))
    return LLM(model, local=local, url="http://llm.test/v1"), model


def chat_at(url: str, timeout: float = 5.0) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=url, api_key="k", model="m", timeout=timeout, max_retries=0, use_responses_api=False
    )


def test_text_returns_the_answer_and_counts_usage_per_tag() -> None:
    llm, model = scripted("three word answer", "ok")
    seen: list[tuple[str, Usage]] = []
    llm.on_usage = lambda tag, usage: seen.append((tag, usage))

    assert llm.text([SystemMessage("be brief"), HumanMessage("say it")], tag="triage") == "three word answer"
    assert llm.text("again please", tag="triage") == "ok"

    assert llm.usage == {"triage": Usage(calls=2, prompt_tokens=4 + 2, completion_tokens=3 + 1)}
    assert seen == [
        ("triage", Usage(calls=1, prompt_tokens=4, completion_tokens=3)),
        ("triage", Usage(calls=1, prompt_tokens=2, completion_tokens=1)),
    ]
    assert model.calls[1][0].content == "again please"


def test_max_tokens_reaches_the_model_under_the_name_each_server_reads() -> None:
    local, local_model = scripted("a", "b")
    local.text("x", max_tokens=12)
    local.text("y")
    hosted, hosted_model = scripted("c", local=False)
    hosted.text("z", max_tokens=12)

    assert local_model.options == [{"extra_body": {"max_tokens": 12}}, {}]
    assert hosted_model.options == [{"max_tokens": 12}]


def test_json_on_the_local_server_sends_the_schema_inside_json_object() -> None:
    llm, model = scripted('{"label": "notify", "reason": "a newsletter"}')

    result = llm.json("triage this", Triage, tag="triage")

    assert result == Triage(label="notify", reason="a newsletter")
    assert model.options[0]["response_format"] == {
        "type": "json_object",
        "schema": Triage.model_json_schema(),
    }
    assert llm.usage["triage"].calls == 1


def test_json_on_a_hosted_endpoint_sends_a_json_schema() -> None:
    llm, model = scripted('```json\n{"label": "reply", "reason": "asks a question"}\n```', local=False)

    assert llm.json("triage this", Triage).label == "reply"
    assert model.options[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Triage", "schema": Triage.model_json_schema(), "strict": False},
    }


def test_invalid_json_is_retried_once_with_the_problem_named() -> None:
    llm, model = scripted('{"label": "maybe", "reason": "?"}', '{"label": "ignore", "reason": "spam"}')

    assert llm.json([HumanMessage("triage this")], Triage, tag="triage").label == "ignore"

    retry = model.calls[1]
    assert retry[0].content == "triage this"  # same prefix, so the server's prompt cache applies
    assert retry[1].content == '{"label": "maybe", "reason": "?"}'
    assert "label" in retry[2].content and "invalid" in retry[2].content
    assert llm.usage["triage"].calls == 2


def test_invalid_json_twice_is_llm_unavailable() -> None:
    llm, model = scripted("not json", '{"label": "notify"}', "never used")

    with pytest.raises(
        LLMUnavailable, match=r"^the LLM at http://llm.test/v1 answered invalid Triage JSON twice: reason"
    ):
        llm.json("triage this", Triage)
    assert len(model.calls) == 2


def test_async_text_json_and_stream() -> None:
    llm, _model = scripted("hello", '{"label": "reply", "reason": "r"}', "streamed in four words")

    async def run() -> tuple[str, Triage, list[str]]:
        text = await llm.atext("hi", tag="chat")
        parsed = await llm.ajson("triage", Triage, tag="triage")
        chunks = [chunk async for chunk in llm.astream("tell me", tag="chat")]
        return text, parsed, chunks

    text, parsed, chunks = asyncio.run(run())

    assert text == "hello"
    assert parsed.label == "reply"
    assert chunks == ["streamed ", "in ", "four ", "words"]
    assert llm.usage["chat"] == Usage(calls=2, prompt_tokens=1 + 2, completion_tokens=1 + 4)
    assert llm.usage["triage"].calls == 1


def test_ajson_retries_like_json() -> None:
    llm, _ = scripted("{}", '{"label": "notify", "reason": "r"}')
    assert asyncio.run(llm.ajson("triage", Triage)).label == "notify"


def test_the_script_running_out_is_a_clear_error() -> None:
    llm, _ = scripted()
    with pytest.raises(ScriptExhausted, match="no reply left for call #1"):
        llm.text("anything")


def test_a_closed_port_is_llm_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    llm = LLM(chat_at(url), local=False, url=url)

    with pytest.raises(LLMUnavailable, match=rf"^the LLM at {url} did not answer: .*[Cc]onnect") as err:
        llm.text("hello")
    assert "\n" not in str(err.value)
    assert llm.usage == {}


def test_a_refused_local_server_is_started_again_once(stub_endpoint: StubEndpoint) -> None:
    """A reused local server can vanish when the process that started it exits; the LLM finds a new one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = f"http://127.0.0.1:{port}/v1"
    llm = LLM(chat_at(dead), local=True, url=dead)
    revived: list[str] = []
    llm.revive = lambda: (
        revived.append(stub_endpoint.url)
        or LLM(chat_at(stub_endpoint.url), local=True, url=stub_endpoint.url)
    )
    stub_endpoint.answers.append(lambda _body: (200, completion("back again", 3, 2)))

    assert llm.text("hello") == "back again"
    assert revived == [stub_endpoint.url] and llm.url == stub_endpoint.url

    llm.revive = lambda: LLM(chat_at(dead), local=True, url=dead)  # still nothing there: one clear error
    llm.chat_model, llm.url = chat_at(dead), dead
    with pytest.raises(LLMUnavailable, match="[Cc]onnect"):
        llm.text("hello")


def test_a_server_error_is_llm_unavailable(stub_endpoint: StubEndpoint) -> None:
    stub_endpoint.answers.append(lambda _body: (500, {"error": {"message": "model crashed"}}))
    llm = LLM(chat_at(stub_endpoint.url), local=False, url=stub_endpoint.url)

    with pytest.raises(LLMUnavailable, match=r"did not answer: HTTP 500: .*model crashed"):
        llm.json("triage", Triage)


def test_a_slow_server_is_llm_unavailable(stub_endpoint: StubEndpoint) -> None:
    stub_endpoint.answers.append(slow(2.0, (200, completion("late"))))
    llm = LLM(chat_at(stub_endpoint.url, timeout=0.3), local=False, url=stub_endpoint.url)

    with pytest.raises(LLMUnavailable, match=r"did not answer: the request timed out"):
        llm.text("hello")


def test_a_stream_whose_first_chunk_is_late_is_llm_unavailable(stub_endpoint: StubEndpoint) -> None:
    # A cold prompt on a busy CPU: nothing streams until the whole prompt is read, so the wait for the
    # first chunk is the request's timeout, not langchain's 120 s.
    assert LLM.for_endpoint(stub_endpoint.url, local=True, timeout=240).chat_model.stream_chunk_timeout == 240

    def late(_prompt: object) -> str:
        raise TimeoutError(
            "No streaming chunk received for 240.0s"
        )  # langchain's StreamChunkTimeoutError is one

    llm = LLM(ScriptedChatModel(replies=[late]), local=True)

    async def collect() -> list[str]:
        return [chunk async for chunk in llm.astream("hello")]

    with pytest.raises(LLMUnavailable, match=r"did not answer: the request timed out"):
        asyncio.run(collect())


def test_from_settings_uses_a_hosted_endpoint_over_the_wire(
    stub_endpoint: StubEndpoint, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSONA_LLM_BASE_URL", stub_endpoint.url)
    monkeypatch.setenv("PERSONA_LLM_API_KEY", "secret-key")
    monkeypatch.setenv("PERSONA_LLM_MODEL", "hosted-model")
    stub_endpoint.answers.append(lambda _body: (200, completion('{"label": "reply", "reason": "r"}', 11, 5)))
    llm = LLM.from_settings(Settings(), Home(tmp_path))

    assert llm.json("triage", Triage, max_tokens=40, tag="triage").label == "reply"

    sent = stub_endpoint.requests[0]
    assert sent["model"] == "hosted-model"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == Triage.model_json_schema()
    assert 40 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))
    assert llm.usage["triage"] == Usage(calls=1, prompt_tokens=11, completion_tokens=5)
    assert not llm.local


def test_a_json_answer_cut_off_by_max_tokens_is_retried_then_reported(stub_endpoint: StubEndpoint) -> None:
    cut = completion('{"label": "rep', 9, 4)
    cut["choices"][0]["finish_reason"] = "length"
    stub_endpoint.answers += [lambda _body: (200, cut), lambda _body: (200, cut)]
    llm = LLM(chat_at(stub_endpoint.url), local=True, url=stub_endpoint.url)

    with pytest.raises(
        LLMUnavailable, match="invalid Triage JSON twice: the answer was cut off by max_tokens"
    ):
        llm.json("triage", Triage, max_tokens=4, tag="triage")

    assert llm.usage["triage"] == Usage(calls=2, prompt_tokens=18, completion_tokens=8)
    first = stub_endpoint.requests[0]
    assert first["max_tokens"] == 4 and "max_completion_tokens" not in first  # what llama.cpp reads
    assert first["response_format"] == {"type": "json_object", "schema": Triage.model_json_schema()}
    assert stub_endpoint.requests[1]["messages"][1] == {"role": "assistant", "content": '{"label": "rep'}


def test_async_calls_work_from_one_event_loop_after_another(stub_endpoint: StubEndpoint) -> None:
    stub_endpoint.answers += [lambda _body, n=n: (200, completion(f"answer {n}")) for n in range(3)]
    llm = LLM.for_endpoint(stub_endpoint.url, local=True, timeout=5, max_retries=0)

    # e.g. a CLI command or a test calling asyncio.run more than once in one process
    assert [asyncio.run(llm.atext("hi")) for _ in range(3)] == ["answer 0", "answer 1", "answer 2"]


def test_length_limits_llama_cpp_cannot_compile_are_left_to_the_check():
    """llama.cpp's server dies on the grammar of a long `maxLength` (its parser gives up on the nesting):
    such limits are not sent; pydantic still checks them on the answer."""
    from pydantic import BaseModel, Field

    from persona.llm.client import GRAMMAR_MAX_LENGTH, LLM

    class Mail(BaseModel):
        subject: str = Field(max_length=80)
        body: str = Field(max_length=3000)
        tags: list[str] = Field(max_length=500)

    local = LLM(ScriptedChatModel(), local=True)._response_format(Mail)["schema"]["properties"]
    assert local["subject"]["maxLength"] == 80 <= GRAMMAR_MAX_LENGTH
    assert "maxLength" not in local["body"] and "maxItems" not in local["tags"]
    hosted = LLM(ScriptedChatModel(), local=False)._response_format(Mail)["json_schema"]["schema"][
        "properties"
    ]
    assert hosted["body"]["maxLength"] == 3000  # a hosted endpoint gets the whole schema


def test_a_call_may_ask_for_its_own_temperature_over_the_wire(stub_endpoint: StubEndpoint) -> None:
    for _ in range(2):
        stub_endpoint.answers.append(lambda _body: (200, completion("ok", 3, 1)))
    llm = LLM.for_endpoint(stub_endpoint.url, local=True, temperature=0.3, max_retries=0)

    llm.text("write a reply", temperature=0.0)
    llm.text("write another")

    assert [sent["temperature"] for sent in stub_endpoint.requests] == [0.0, 0.3]
