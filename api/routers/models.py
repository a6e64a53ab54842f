from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Auth, CatalogDep
from api.openapi import AUTHENTICATED, errors
from api.schemas import Collection, Model, Voice
from shared.catalog import RELAY_MODES, Catalog, ModelSpec
from shared.credits.pricing import describe
from shared.errors import NotFound
from shared.jobs.modes import MODE_NAMES
from shared.media.voices import VOICES

router = APIRouter(prefix="/v1", tags=["models"])


def _view(model: ModelSpec, defaults: dict[str, str]) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.provider,
            "category": model.category, "mode": model.mode, "provider": model.provider,
            "default": defaults.get(model.mode) == model.id, "capabilities": model.capabilities,
            "pricing": describe(model.price_rules), "fallbacks": list(model.fallbacks)}


def _defaults(catalog: Catalog) -> dict[str, str]:
    return {mode: catalog.default_for(mode).id for mode in MODE_NAMES + RELAY_MODES if catalog.available(mode)}


@router.get("/models", response_model=Collection[Model], responses=errors(*AUTHENTICATED))
def list_models(principal: Auth, catalog: CatalogDep) -> dict[str, Any]:
    defaults = _defaults(catalog)
    return {"object": "list", "data": [_view(m, defaults) for m in catalog.available()]}


@router.get("/models/{model_id:path}", response_model=Model, responses=errors(*AUTHENTICATED, 404))
def get_model(model_id: str, principal: Auth, catalog: CatalogDep) -> dict[str, Any]:
    """One model, by catalog id or (where unambiguous) by its provider's name."""
    model = catalog.find(model_id)
    if model is None:
        raise NotFound(f"No model {model_id!r}.", param="model")
    return _view(model, _defaults(catalog))


@router.get("/voices", response_model=Collection[Voice], responses=errors(*AUTHENTICATED))
def list_voices(principal: Auth) -> dict[str, Any]:
    return {"object": "list", "data": [{"object": "voice", **voice.public()} for voice in VOICES.values()]}
