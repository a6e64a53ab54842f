from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Auth, CatalogDep
from shared.credits.pricing import describe
from shared.jobs.modes import MODE_NAMES
from shared.media.voices import VOICES

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models")
def list_models(principal: Auth, catalog: CatalogDep) -> dict[str, Any]:
    defaults = {mode: catalog.default_for(mode).id for mode in MODE_NAMES if catalog.available(mode)}
    data = [{"id": m.id, "object": "model", "mode": m.mode, "provider": m.provider,
             "default": defaults.get(m.mode) == m.id, "capabilities": m.capabilities,
             "pricing": describe(m.price_rules), "fallbacks": list(m.fallbacks)}
            for m in catalog.available()]
    return {"object": "list", "data": data}


@router.get("/voices")
def list_voices(principal: Auth) -> dict[str, Any]:
    return {"object": "list", "data": [{"object": "voice", **voice.public()} for voice in VOICES.values()]}
