"""A person's API keys (session only: a key cannot mint or revoke keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import DB, Person, audit_context
from api.people_schemas import AUTHENTICATED, KeyCreate, KeyCreated, KeyList, errors
from shared.people import keys

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("", response_model=KeyList, responses=errors(*AUTHENTICATED))
def list_keys(principal: Person, db: DB) -> dict[str, Any]:
    data = [keys.view(k) for k in keys.list_keys(db, principal.account_id)]
    return {"object": "list", "data": data, "has_more": False, "next_cursor": None}


@router.post("", status_code=201, response_model=KeyCreated, responses=errors(*AUTHENTICATED, 403, 413))
def create_key(body: KeyCreate, principal: Person, request: Request, response: Response, db: DB) -> dict[str, Any]:
    key, full = keys.create(db, principal.account_id, body.name, body.daily_credit_limit,
                            audit_context(request, principal.actor))
    response.headers["Cache-Control"] = "no-store"
    return keys.view(key, full)


@router.post("/{key_id}/rotate", response_model=KeyCreated, responses=errors(*AUTHENTICATED, 403, 404))
def rotate_key(key_id: str, principal: Person, request: Request, response: Response, db: DB) -> dict[str, Any]:
    key, full = keys.rotate(db, principal.account_id, key_id, audit_context(request, principal.actor))
    response.headers["Cache-Control"] = "no-store"
    return keys.view(key, full)


@router.delete("/{key_id}", status_code=204, response_class=Response, responses=errors(*AUTHENTICATED, 403, 404))
def revoke_key(key_id: str, principal: Person, request: Request, db: DB) -> Response:
    keys.revoke(db, principal.account_id, key_id, audit_context(request, principal.actor))
    return Response(status_code=204)
