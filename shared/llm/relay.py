"""Relay one chat completion or embeddings request to its upstream, and bill it.

A streamed completion is relayed event by event as the upstream sends it: each Server-Sent
Event is written to the client as soon as it is parsed, nothing is buffered. When the client
goes away the stream is cancelled, which closes the upstream request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
from httpx_sse import EventSource

from shared.catalog import Catalog, ModelSpec
from shared.errors import ServiceUnavailable
from shared.llm import billing, upstream
from shared.llm.billing import RequestCharge
from shared.llm.schemas import ChatRequest, EmbeddingRequest
from shared.settings import Settings


async def _post(client: httpx.AsyncClient, charge: RequestCharge, outgoing: httpx.Request) -> dict[str, Any]:
    """Send and return the upstream's JSON answer; on any failure the hold is released."""
    try:
        response = await client.send(outgoing)
        if response.status_code != 200:
            raise upstream.error_from_status(response.status_code, response.content,
                                             response.headers.get("retry-after"))
        answer = response.json()
        if not isinstance(answer, dict):
            raise ValueError("not a JSON object")
        return answer
    except BaseException as exc:
        await charge.release(f"upstream failed: {type(exc).__name__}")
        if isinstance(exc, httpx.HTTPError | ValueError):
            raise upstream.unavailable(type(exc).__name__) from exc
        raise


def _with_credits(answer: dict[str, Any], credits: int) -> dict[str, Any]:
    usage = answer.get("usage")
    answer["usage"] = {**(usage if isinstance(usage, dict) else {}), "credits_used": credits}
    return answer


def count_tool_calls(answer: dict[str, Any]) -> int:
    return sum(len((choice.get("message") or {}).get("tool_calls") or ())
               for choice in answer.get("choices") or ())


async def embed(client: httpx.AsyncClient, payer: billing.Payer, request: EmbeddingRequest, catalog: Catalog,
                settings: Settings) -> dict[str, Any]:
    spec = catalog.resolve("embedding", request.model)
    target = upstream.target(spec, settings, "embeddings")
    charge, outgoing = await billing.hold(payer, spec, lambda: target.request(
        client, request.upstream_body(spec.provider_model)))
    answer = await _post(client, charge, outgoing)
    await charge.confirm()
    credits = await charge.settle(usage=answer.get("usage"))
    return _with_credits(answer, credits)


async def complete(client: httpx.AsyncClient, payer: billing.Payer, request: ChatRequest, spec: ModelSpec,
                   settings: Settings) -> dict[str, Any]:
    target = upstream.target(spec, settings, "chat/completions")
    charge, outgoing = await billing.hold(payer, spec, lambda: target.request(
        client, request.upstream_body(spec.provider_model)))
    answer = await _post(client, charge, outgoing)
    await charge.confirm()
    credits = await charge.settle(tool_calls=count_tool_calls(answer), usage=answer.get("usage"))
    return _with_credits(answer, credits)


async def open_stream(client: httpx.AsyncClient, payer: billing.Payer, request: ChatRequest, spec: ModelSpec,
                      settings: Settings) -> AsyncIterator[bytes]:
    """Hold, open the upstream stream and check its status (errors are raised here, before any
    byte is sent to the client); then the events, relayed as they arrive."""
    target = upstream.target(spec, settings, "chat/completions")
    charge, outgoing = await billing.hold(payer, spec, lambda: target.request(
        client, request.upstream_body(spec.provider_model), stream=True))
    try:
        response = await client.send(outgoing, stream=True)
    except BaseException as exc:
        await charge.release(f"upstream failed: {type(exc).__name__}")
        if isinstance(exc, httpx.HTTPError):
            raise upstream.unavailable(type(exc).__name__) from exc
        raise
    if response.status_code != 200:
        with anyio.CancelScope(shield=True):
            body = await response.aread()
            await response.aclose()
        await charge.release(f"upstream status {response.status_code}")
        raise upstream.error_from_status(response.status_code, body, response.headers.get("retry-after"))
    want_usage = bool(request.stream_options and request.stream_options.include_usage)
    return _events(response, charge, want_usage)


class _Tally:
    """Tool calls (distinct per choice and tool index) and the usage seen in a stream so far."""

    def __init__(self) -> None:
        self.calls: set[tuple[int, int]] = set()
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        for choice in chunk.get("choices") or ():
            for call in (choice.get("delta") or {}).get("tool_calls") or ():
                self.calls.add((int(choice.get("index") or 0), int(call.get("index") or 0)))
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]


def _sse(data: str) -> bytes:
    return f"data: {data}\n\n".encode()


_DONE = _sse("[DONE]")


def _stream_error(message: str) -> bytes:
    return _sse(json.dumps({"error": {"message": message, "type": "api_error", "param": None,
                                      "code": "SERVICE_UNAVAILABLE"}}))


#: After ``[DONE]``, how long the upstream gets to end its body (the terminating chunk follows at
#: once): read to its end, the connection goes back to the pool instead of being closed.
_DRAIN_SECONDS = 1.0


async def _drain(events: AsyncIterator[Any]) -> None:
    with anyio.move_on_after(_DRAIN_SECONDS):
        try:
            async for _ in events:
                pass
        except (httpx.HTTPError, ValueError):
            pass  # the connection is closed instead of reused


async def _events(response: httpx.Response, charge: RequestCharge, want_usage: bool) -> AsyncIterator[bytes]:
    tally, finished, gone = _Tally(), False, False
    events = EventSource(response).aiter_sse()
    try:
        async for event in events:
            if event.data == "[DONE]":
                await charge.confirm()  # the hold is committed by now (it began before the upstream call)
                finished = True
                break
            chunk = json.loads(event.data)
            if not isinstance(chunk, dict) or "error" in chunk:
                yield _sse(event.data)
                break
            tally.feed(chunk)
            if chunk.get("usage") and not chunk.get("choices"):
                # The closing usage chunk: settle now, so it can say what was charged.
                await charge.confirm()
                credits = await charge.settle(tool_calls=len(tally.calls), usage=tally.usage)
                if want_usage:
                    yield _sse(json.dumps({**chunk, "usage": {**chunk["usage"], "credits_used": credits}}))
                continue
            yield _sse(event.data)
    except (httpx.HTTPError, ValueError) as exc:
        yield _stream_error(f"The upstream stream failed ({type(exc).__name__}); nothing was charged.")
    except ServiceUnavailable as exc:
        yield _stream_error(exc.message)
    except (anyio.get_cancelled_exc_class(), GeneratorExit):
        gone = True
        raise
    finally:
        with anyio.CancelScope(shield=True):
            if finished:
                await _drain(events)
            await response.aclose()
        await _close_charge(charge, tally, finished, gone)
    if finished:
        yield _DONE


async def _close_charge(charge: RequestCharge, tally: _Tally, finished: bool, gone: bool) -> None:
    """A stream that ended (or whose client went away) is charged; one the upstream broke is not."""
    if finished or gone:
        await charge.settle(tool_calls=len(tally.calls), usage=tally.usage, incomplete=not finished)
    else:
        await charge.release("upstream stream failed")
