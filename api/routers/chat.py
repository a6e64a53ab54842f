"""OpenAI-compatible chat completions and embeddings: async routes relaying to the upstream."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.types import Receive, Scope, Send

from api.deps import AppSettings, Auth, CatalogDep, credit_headers
from api.openapi import AUTHENTICATED, errors
from api.transaction import ReadTx
from shared.accounts import Principal
from shared.llm import billing, relay
from shared.llm.schemas import ChatRequest, EmbeddingRequest

router = APIRouter(prefix="/v1", tags=["openai"])


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ChatCompletion(_Open):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any]


class EmbeddingList(_Open):
    object: str
    data: list[dict[str, Any]]
    model: str
    usage: dict[str, Any]


class RelayStream(StreamingResponse):
    """A stream that stops the moment its client goes away (not at its next write): the
    cancelled relay closes its upstream request at once."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                async def stream() -> None:
                    try:
                        await self.stream_response(send)
                    except OSError:
                        pass  # the client went away mid-write
                    group.cancel_scope.cancel()

                group.start_soon(stream)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()


def _payer(principal: Principal) -> billing.Payer:
    return billing.Payer(principal.account_id, principal.key_id, remaining=principal.credits_remaining)


def _report(request: Request, payer: billing.Payer) -> None:
    """The credits this request held (a stream, whose charge is known only at its end) or charged."""
    request.state.response_headers.update(credit_headers(payer.used, payer.remaining))


def _client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.state.relay_client
    return client


@router.post("/chat/completions", response_model=ChatCompletion, responses={
    **errors(*AUTHENTICATED, 402, 413),
    200: {"description": "The completion; with `stream: true`, Server-Sent Events (`data: {chunk}` … "
                         "`data: [DONE]`).",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def chat_completions(body: ChatRequest, request: Request, principal: Auth, tx: ReadTx, catalog: CatalogDep,
                           settings: AppSettings) -> Any:
    # The key was checked on a read-only session (no BEGIN/COMMIT); ending it sends nothing and gives
    # its connection back before the upstream is awaited (the hold has its own transaction).
    tx.end()
    spec = catalog.resolve("chat", body.model)
    payer = _payer(principal)
    if body.stream:
        events = await relay.open_stream(_client(request), payer, body, spec, settings)
        _report(request, payer)
        return RelayStream(events, media_type="text/event-stream",
                           headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    answer = await relay.complete(_client(request), payer, body, spec, settings)
    _report(request, payer)
    return answer


@router.post("/embeddings", response_model=EmbeddingList, responses=errors(*AUTHENTICATED, 402, 413))
async def embeddings(body: EmbeddingRequest, request: Request, principal: Auth, tx: ReadTx, catalog: CatalogDep,
                     settings: AppSettings) -> Any:
    tx.end()  # as for chat: read-only, nothing sent, the connection back before the upstream call
    payer = _payer(principal)
    answer = await relay.embed(_client(request), payer, body, catalog, settings)
    _report(request, payer)
    return answer
