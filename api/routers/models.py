from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Auth, CatalogDep
from api.openapi import AUTHENTICATED, errors
from api.schemas import Collection, Model, Voice
from shared.catalog import model_view
from shared.errors import NotFound
from shared.media.voices import VOICES

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", response_model=Collection[Model], responses=errors(*AUTHENTICATED))
def list_models(principal: Auth, catalog: CatalogDep) -> dict[str, Any]:
    defaults = catalog.defaults()
    return {"object": "list", "data": [model_view(m, defaults) for m in catalog.available()]}


@router.get("/models/{model_id:path}", response_model=Model, responses=errors(*AUTHENTICATED, 404))
def get_model(model_id: str, principal: Auth, catalog: CatalogDep) -> dict[str, Any]:
    """One model, by catalog id or (where unambiguous) by its provider's name."""
    model = catalog.find(model_id)
    if model is None:
        raise NotFound(f"No model {model_id!r}.", param="model")
    return model_view(model, catalog.defaults())


@router.get("/voices", response_model=Collection[Voice], responses=errors(*AUTHENTICATED))
def list_voices(principal: Auth) -> dict[str, Any]:
    return {"object": "list", "data": [{"object": "voice", **voice.public()} for voice in VOICES.values()]}
