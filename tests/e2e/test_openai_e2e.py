"""OpenAI-speaking clients on the Claude pool (issue 14): the official `openai` SDK against real
`shunt serve` with the simulator behind it. Chat completions and the Responses API, streaming
and not, tool calls round trip, images, usage, failover, 503 with retry-after, the request log,
and the subscription-credential refusal."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import openai
import pytest

from tests.e2e.harness import Proxy, Simulator, request_log_rows, wait_until, write_config

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
# A 1x1 PNG, as a data: URL.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.fixture
def client(proxy: Proxy) -> Iterator[openai.OpenAI]:
    assert proxy.openai_url is not None
    with openai.OpenAI(base_url=proxy.openai_url, api_key="unused", max_retries=0) as sdk:
        yield sdk


def test_chat_completion_whole(client: openai.OpenAI, proxy: Proxy):
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello."},
        ],
        max_tokens=50,
    )
    completion = raw.parse()
    assert raw.headers["x-shunt-account"] in ("alpha", "beta")
    assert completion.model == "gpt-4o", "the model the client asked for"
    assert completion.choices[0].message.content.startswith("Hello from the shunt simulator")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    assert completion.usage.prompt_tokens > 0
    row = wait_until_row(proxy, lambda row: row["path"] == "/v1/chat/completions")
    assert (row["listener"], row["model"], row["model_sent"]) == (
        "openai",
        "gpt-4o",
        "claude-opus-4-6",
    )
    assert row["client"] == "openai-python"
    assert row["status"] == 200


def test_chat_completion_streamed_with_usage(client: openai.OpenAI):
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=50,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Hello from the shunt simulator")
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert {c.model for c in chunks} == {"gpt-4o-mini"}


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_call_round_trip(client: openai.OpenAI, stream: bool):
    messages: list[dict] = [{"role": "user", "content": "What is the weather? call get_weather"}]
    first = _chat(client, messages, stream=stream, tools=[WEATHER_TOOL])
    assert first["finish_reason"] == "tool_calls"
    (call,) = first["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert "city" in json.loads(call["function"]["arguments"])
    messages += [
        {"role": "assistant", "content": None, "tool_calls": first["tool_calls"]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"},
    ]
    second = _chat(client, messages, stream=stream, tools=[WEATHER_TOOL])
    assert second["finish_reason"] == "stop"
    assert "sunny, 21 C" in second["content"], "the tool's result reached the model"


def test_an_image_and_stop_sequences_reach_the_upstream(
    client: openai.OpenAI, simulator: Simulator
):
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "Describe images."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                ],
            },
        ],
        stop=["simulator"],
        max_tokens=50,
    )
    # The simulator stops where its text would hold the sequence, as the real API does.
    assert completion.choices[0].message.content == "Hello from the shunt "
    assert completion.choices[0].finish_reason == "stop"
    body = simulator.state()["requests"][-1]["body"]
    assert body["model"] == "claude-opus-4-6"
    assert body["image_sources"] == ["base64"]
    assert body["stop_sequences"] == ["simulator"]
    assert body["roles"] == ["user"]
    assert body["system_chars"] == len("Describe images.")


def test_tools_and_tool_choice_reach_the_upstream(client: openai.OpenAI, simulator: Simulator):
    client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "x"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=50,
    )
    body = simulator.state()["requests"][-1]["body"]
    assert body["tools"] == ["get_weather"]
    assert body["tool_choice"] == {"type": "any"}
    assert body["disable_parallel_tool_use"] is True


def test_n_above_one_is_a_clear_400(client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], n=2
        )
    assert info.value.param == "n"
    assert "n" in str(info.value.message)


def test_the_model_list(client: openai.OpenAI):
    ids = [model.id for model in client.models.list()]
    assert {"gpt-4o", "o3-mini", "claude-opus-4-6", "claude-sonnet-4-6"} <= set(ids)
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_responses_whole_and_streamed(client: openai.OpenAI):
    response = client.responses.create(
        model="gpt-5", instructions="Be brief.", input="Say hello.", store=False
    )
    assert response.status == "completed"
    assert response.model == "gpt-5"
    assert response.output_text.startswith("Hello from the shunt simulator")
    assert response.usage is not None
    assert response.usage.output_tokens > 0
    events = list(
        client.responses.create(model="gpt-5", input="Say hello.", store=False, stream=True)
    )
    types = [event.type for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text.startswith("Hello from the shunt simulator")


def test_responses_function_call_and_custom_tool_round_trip(client: openai.OpenAI):
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": WEATHER_TOOL["function"]["parameters"],
        },
        {"type": "custom", "name": "apply_patch", "description": "Apply a patch"},
    ]
    first = client.responses.create(
        model="gpt-5",
        input="call get_weather and apply_patch",
        tools=tools,
        store=False,
        prompt_cache_key="conversation-1",
    )
    calls = {item.type: item for item in first.output if item.type.endswith("call")}
    assert set(calls) == {"function_call", "custom_tool_call"}
    assert calls["function_call"].name == "get_weather"
    assert isinstance(calls["custom_tool_call"].input, str)
    second_input = [
        {"role": "user", "content": "call get_weather and apply_patch"},
        *[item.model_dump(exclude_none=True) for item in first.output],
        {
            "type": "function_call_output",
            "call_id": calls["function_call"].call_id,
            "output": "sunny",
        },
        {
            "type": "custom_tool_call_output",
            "call_id": calls["custom_tool_call"].call_id,
            "output": "patched",
        },
    ]
    second = client.responses.create(
        model="gpt-5",
        input=second_input,
        tools=tools,
        store=False,
        prompt_cache_key="conversation-1",
    )
    assert second.status == "completed"
    assert "sunny" in second.output_text
    assert "patched" in second.output_text


def test_previous_response_id_is_refused(client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="gpt-5", input="x", previous_response_id="resp_1")
    assert info.value.param == "previous_response_id"


def test_a_429_fails_over_to_the_other_account(client: openai.OpenAI, simulator: Simulator):
    simulator.fault("alpha", "429", count=-1, retry_after=120)
    for turn in range(3):
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"q{turn}"}], max_tokens=5
        )
        assert raw.headers["x-shunt-account"] == "beta"
        assert raw.parse().choices[0].message.content
    simulator.clear_faults()


def test_every_account_cooling_is_an_openai_503_with_retry_after(
    client: openai.OpenAI, simulator: Simulator
):
    simulator.fault("alpha", "529", count=-1)
    simulator.fault("beta", "529", count=-1)
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], max_tokens=5
        )
    assert info.value.status_code == 503
    assert 1 <= int(info.value.response.headers["retry-after"]) <= 30
    error = info.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "no account can take this request" in error["message"]
    simulator.clear_faults()


def test_a_refused_subscription_credential_says_why_and_cools_nothing(
    client: openai.OpenAI, simulator: Simulator, proxy: Proxy
):
    simulator.fault("alpha", "claude_code_only")
    simulator.fault("beta", "claude_code_only")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], max_tokens=5
        )
    assert info.value.code == "subscription_credential_refused"
    assert "API key" in info.value.message
    assert {proxy.account(name)["status"] for name in ("alpha", "beta")} == {"ready"}
    simulator.clear_faults()


def wait_until_row(proxy: Proxy, matches) -> dict:
    found: list[dict] = []

    def look() -> bool:
        found[:] = [row for row in request_log_rows(proxy.home) if matches(row)]
        return bool(found)

    wait_until(look, what="the request's row in the request log")
    return found[-1]


def _chat(client: openai.OpenAI, messages: list[dict], *, stream: bool, tools: list) -> dict:
    """The assistant's turn as a dict (content, tool_calls, finish_reason), read whole or from
    the stream's chunks the way OpenAI's docs reassemble them."""
    if not stream:
        choice = client.chat.completions.create(
            model="gpt-4o", messages=messages, tools=tools, max_tokens=200
        ).choices[0]
        calls = [call.model_dump() for call in choice.message.tool_calls or []]
        return {
            "content": choice.message.content or "",
            "tool_calls": calls,
            "finish_reason": choice.finish_reason,
        }
    content, calls, finish = "", {}, None
    for chunk in client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=tools, max_tokens=200, stream=True
    ):
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for part in delta.tool_calls or []:
            call = calls.setdefault(
                part.index,
                {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
            )
            call["id"] = part.id or call["id"]
            if part.function is not None:
                call["function"]["name"] += part.function.name or ""
                call["function"]["arguments"] += part.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    return {"content": content, "tool_calls": list(calls.values()), "finish_reason": finish}


@pytest.mark.parametrize("kind", ["sse_error", "midstream_drop"])
def test_a_chat_stream_that_fails_midway_ends_with_an_error_the_sdk_raises(
    client: openai.OpenAI, simulator: Simulator, proxy: Proxy, kind: str
):
    for name in ("alpha", "beta"):
        simulator.fault(name, kind, after_events=3)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], max_tokens=50, stream=True
    )
    received: list = []
    with pytest.raises(openai.APIError) as info:
        received.extend(stream)
    assert received, "some chunks arrived before the failure"
    assert info.value.message
    simulator.clear_faults()


@pytest.mark.parametrize("kind", ["sse_error", "midstream_drop"])
def test_a_responses_stream_that_fails_midway_ends_with_response_failed(
    client: openai.OpenAI, simulator: Simulator, kind: str
):
    for name in ("alpha", "beta"):
        simulator.fault(name, kind, after_events=3)
    events = list(client.responses.create(model="gpt-5", input="x", store=False, stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.failed", [event.type for event in events]
    assert sum(event.type.startswith("response.failed") for event in events) == 1
    assert events[-1].response.error is not None
    simulator.clear_faults()


def test_a_websocket_upgrade_on_responses_is_answered_at_once(proxy: Proxy):
    answer = proxy.openai_client.get(
        "/responses",
        headers={
            "upgrade": "websocket",
            "connection": "Upgrade",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert answer.status_code == 426
    assert answer.json()["error"]["code"] == "websocket_not_supported"


def test_a_whole_answer_cut_midway_is_an_openai_502(client: openai.OpenAI, simulator: Simulator):
    for name in ("alpha", "beta"):
        simulator.fault(name, "midstream_drop")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], max_tokens=50
        )
    assert info.value.status_code == 502
    error = info.value.response.json()["error"]
    assert error["code"] == "upstream_error"
    assert "incomplete" in error["message"]
    simulator.clear_faults()


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_client_that_goes_away_cancels_its_upstream_stream(shunt_home, tmp_path, api: str):
    """The bridge keeps the pool's on_close: closing an OpenAI stream midway cancels the
    upstream request. The simulator waits a minute between events, so only a cancel ends it
    within the poll's 10 s."""
    simulator = Simulator(shunt_home, tmp_path, ["alpha"], event_delay_ms=60_000)
    try:
        write_config(shunt_home, simulator.url, ["alpha"])
        proxy = Proxy(shunt_home)
        try:
            with openai.OpenAI(base_url=proxy.openai_url, api_key="x", max_retries=0) as sdk:
                if api == "chat":
                    stream = sdk.chat.completions.create(
                        model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
                    )
                else:
                    stream = sdk.responses.create(
                        model="gpt-5", input="x", store=False, stream=True
                    )
                with stream:
                    next(iter(stream))  # the first event is through; the next is a minute away
                    assert simulator.state()["streams_open"] == 1
            wait_until(
                lambda: simulator.state()["streams_open"] == 0,
                timeout=10,
                what="the upstream stream cancelled",
            )
            wait_until(lambda: proxy.account("alpha")["in_flight"] == 0, what="nothing in flight")
        finally:
            proxy.close()
    finally:
        simulator.close()
