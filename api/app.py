"""The FastAPI application: thin routers over shared/, one error shape, one event hub per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import errors, openapi
from api.middleware import install_log_redaction
from api.request_context import RequestContext
from api.routers import (
    account,
    assets,
    audio,
    auth,
    chat,
    generations,
    images,
    jobs,
    keys,
    models,
    ops,
    plans,
    providers,
    speech,
    studio,
    usage,
    videos,
)
from shared import metrics
from shared.jobs.hub import JobEventHub
from shared.llm.upstream import new_client
from shared.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    install_log_redaction()
    get_settings().check_production()
    hub = JobEventHub(get_settings().require_redis_url())
    await hub.start()
    unregister = metrics.register_api_collectors(lambda: hub.waiter_count)
    try:
        # Lifespan state, per server: the hub's listener and the relay client belong to this
        # server's event loop (two servers of one app object, as in tests, must not share them).
        async with new_client(get_settings()) as relay_client:
            yield {"relay_client": relay_client, "events": hub}
    finally:
        unregister()
        await hub.stop()


def create_app() -> FastAPI:
    app = FastAPI(
        title="Atelier",
        version="0.1.0",
        description="Async media generation: assets, jobs, credits, webhooks.",
        lifespan=lifespan,
    )
    errors.install(app)
    openapi.install(app)
    # The one layer: request id, limits, response headers, timing (refusals get them too).
    app.add_middleware(RequestContext)
    for module in (ops, auth, account, plans, usage, keys, assets, jobs, models, providers, chat, audio,
                   generations, videos, images, speech):
        app.include_router(module.router)
    studio.install(app)
    return app
