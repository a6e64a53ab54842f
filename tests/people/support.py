"""Sign-up helpers for the people tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

PASSWORD = "correct horse battery"


def new_email() -> str:
    return f"p-{uuid.uuid4().hex[:12]}@example.com"


@dataclass(frozen=True)
class Person:
    account_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign_up(client: Any, email: str | None = None) -> Person:
    email = email or new_email()
    response = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    client.cookies.clear()  # tests choose bearer or cookie explicitly
    return Person(body["account"]["id"], email, body["session_token"])


def key_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
