"""``submit``: the one domain call behind POST /v1/jobs, idempotency included."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from api.deps import get_catalog
from shared.db.models import Job
from shared.db.session import session_scope
from shared.errors import IdempotencyKeyReused, ValidationError
from shared.jobs import modes
from shared.jobs.submit import submit
from shared.settings import get_settings
from shared.storage import get_storage


def _submit(account_id: str, body: dict, key: str | None):
    with session_scope() as session:
        outcome = submit(session, get_storage(get_settings()), account_id, modes.parse(body), get_catalog(),
                         get_settings(), idempotency_key=key)
        session.info.pop("atelier_after_commit", None)  # nothing to run: no worker here
        return outcome


def _jobs(account_id: str) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).where(Job.account_id == account_id)) or 0)


def test_submit_creates_once_per_key_and_replays(make_account):
    caller = make_account()
    body = {"mode": "text_to_image", "prompt": "a red kite", "seed": 7}
    first = _submit(caller.account_id, body, "key-1")
    assert (first.status, first.replayed, first.body["status"]) == (202, False, "queued")
    again = _submit(caller.account_id, body, "key-1")
    assert again.replayed and again.body == first.body
    assert _jobs(caller.account_id) == 1
    with pytest.raises(IdempotencyKeyReused):
        _submit(caller.account_id, {**body, "prompt": "another"}, "key-1")
    assert not _submit(caller.account_id, body, None).replayed
    assert _jobs(caller.account_id) == 2


def test_submit_refuses_a_key_that_cannot_be_stored(make_account):
    caller = make_account()
    with pytest.raises(ValidationError):
        _submit(caller.account_id, {"mode": "text_to_image", "prompt": "p"}, "k\x00")


@pytest.mark.parametrize(("body", "field"), [
    ({"mode": "text_to_image", "prompt": "a kite", "style": "vivid"}, "style"),
    ({"mode": "text_to_image", "prompt": "a kite", "upscale": "2x"}, "upscale"),
    ({"mode": "text_to_image", "prompt": "a kite", "quality": "hd"}, "quality"),
    ({"mode": "image_to_image", "prompt": "a kite", "input_image_url": "data:,x", "n": 2}, "n"),
])
def test_a_local_only_field_given_to_an_upstream_model_is_a_400_naming_it(make_account, body, field):
    from shared.catalog import BUILTIN, Catalog

    upstream = Catalog(BUILTIN, {"local", "fal"})
    model = "fal-ai/flux/dev" if body["mode"] == "text_to_image" else "fal-ai/flux/dev/image-to-image"
    caller = make_account()
    with session_scope() as session, pytest.raises(ValidationError) as caught:
        submit(session, get_storage(get_settings()), caller.account_id, modes.parse({**body, "model": model}),
               upstream, get_settings())
    assert caught.value.details["errors"] == [{"field": field, "message": f"is not supported by model {model}"}]
    assert _jobs(caller.account_id) == 0
