"""The Rasa HTTP backend, against a fake Rasa server (httpx.MockTransport, no network)."""

from __future__ import annotations

import json

import httpx
import pytest

from nlu import SAMPLE_CATALOGUE, BuiltinInterpreter, Hints, Interpreter, NluBackendError, RasaHttpInterpreter

RASA_ANSWER = {
    "text": "我要两件红色的",
    "intent": {"name": "add_to_cart", "confidence": 0.93},
    "entities": [
        {"entity": "quantity", "value": 2, "start": 2, "end": 4, "extractor": "RegexEntityExtractor"},
        {"entity": "color", "value": "red", "start": 4, "end": 6},
        {"entity": "broken", "value": "x", "start": 40, "end": 99},
    ],
    "intent_ranking": [
        {"name": "add_to_cart", "confidence": 0.93},
        {"name": "nlu_fallback", "confidence": 0.05},
    ],
}


def fake_rasa(handler: httpx.MockTransport) -> RasaHttpInterpreter:
    return RasaHttpInterpreter("http://rasa.local:5005/", client=httpx.AsyncClient(transport=handler))


async def test_maps_rasa_answer() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=RASA_ANSWER)

    rasa = fake_rasa(httpx.MockTransport(handle))
    result = await rasa.parse("我要两件红色的", Hints(lang="zh-Hans"))
    assert isinstance(rasa, Interpreter)
    assert seen[0].url.path == "/model/parse"
    assert json.loads(seen[0].content) == {"text": "我要两件红色的"}
    assert (result.intent, result.confidence, result.lang) == ("add_to_cart", 0.93, "zh-Hans")
    assert [(e.type, e.value, e.text) for e in result.entities] == [
        ("quantity", 2, "两件"),
        ("color", "red", "红色"),
    ]
    assert [r.intent for r in result.ranking] == ["add_to_cart", "out_of_scope"]


async def test_nlu_fallback_is_out_of_scope() -> None:
    answer = {"intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}
    rasa = fake_rasa(httpx.MockTransport(lambda r: httpx.Response(200, json=answer)))
    assert (await rasa.parse("weather in Oslo?")).intent == "out_of_scope"


async def test_server_error_is_a_clear_error() -> None:
    rasa = fake_rasa(httpx.MockTransport(lambda r: httpx.Response(500, text="boom")))
    with pytest.raises(NluBackendError, match=r"rasa\.local.*500"):
        await rasa.parse("hi")


async def test_timeout_is_a_clear_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    rasa = fake_rasa(httpx.MockTransport(slow))
    with pytest.raises(NluBackendError, match="ReadTimeout"):
        await rasa.parse("hi")


async def test_malformed_answer_is_a_clear_error() -> None:
    rasa = fake_rasa(httpx.MockTransport(lambda r: httpx.Response(200, content=b"[1, 2]")))
    with pytest.raises(NluBackendError, match="not an object"):
        await rasa.parse("hi")
    rasa = fake_rasa(httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>")))
    with pytest.raises(NluBackendError):
        await rasa.parse("hi")


async def test_falls_back_to_builtin_when_rasa_is_down(interpreter: BuiltinInterpreter) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rasa = RasaHttpInterpreter(
        "http://rasa.local:5005",
        client=httpx.AsyncClient(transport=httpx.MockTransport(down)),
        fallback=interpreter,
    )
    result = await rasa.parse("我要退款")
    assert result.intent == "return_refund"


async def test_lone_surrogates_can_be_sent() -> None:
    rasa = fake_rasa(
        httpx.MockTransport(lambda r: httpx.Response(200, json={"intent": None, "entities": []}))
    )
    result = await rasa.parse("\ud800")
    assert result.intent == "out_of_scope"


async def test_a_plainly_english_message_is_marked_with_rasa_too() -> None:
    """WeChat's first-message language (nlu.english) does not depend on the NLU backend."""
    answer = {"intent": {"name": "search_product", "confidence": 0.9}, "entities": []}
    rasa = fake_rasa(httpx.MockTransport(lambda r: httpx.Response(200, json=answer)))
    assert not (await rasa.parse("Floral Midi Dress")).plain_english  # no catalogue yet
    rasa.update_catalogue(SAMPLE_CATALOGUE)
    assert (await rasa.parse("Floral Midi Dress")).plain_english
    assert not (await rasa.parse("AirPods Pro")).plain_english
