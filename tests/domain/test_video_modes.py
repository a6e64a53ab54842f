"""Video and music parameters on the registry: defaults, and refusal by models that cannot honour them."""

from __future__ import annotations

import pytest

from shared.catalog import BUILTIN, Catalog
from shared.db.session import session_scope
from shared.errors import ValidationError
from shared.jobs import modes
from shared.jobs.submit import submit
from shared.settings import get_settings
from shared.storage import get_storage

HAILUO = "fal-ai/minimax/hailuo-02/standard/text-to-video"


def _submit(account_id: str, body: dict, catalog: Catalog):
    with session_scope() as session:
        outcome = submit(session, get_storage(get_settings()), account_id, modes.parse(body), catalog,
                         get_settings(), idempotency_key=None)
        session.info.pop("atelier_after_commit", None)  # nothing to run: no worker here
        return outcome


def test_video_defaults():
    params = modes.parse({"mode": "text_to_video", "prompt": "sea", "seed": 1}).params()
    assert params == {"duration_seconds": 5, "resolution": "720p", "fps": 24, "aspect_ratio": "16:9",
                      "loop": False, "seed": 1}
    silent = modes.parse({"mode": "image_to_video", "input_image_asset_id": "ast_a", "seed": 1}).params()
    assert silent == {"input_image_asset_id": "ast_a", "duration_seconds": 5, "resolution": "720p", "fps": 25,
                      "loop": False, "seed": 1}
    talking = modes.parse({"mode": "image_to_video", "input_image_asset_id": "ast_a", "voice_text": "hi"}).params()
    assert "duration_seconds" not in talking and "aspect_ratio" not in talking


@pytest.mark.parametrize("field", ["resolution", "fps", "aspect_ratio", "loop", "negative_prompt"])
def test_an_upstream_video_model_refuses_what_only_the_local_renderer_honours(make_account, field):
    caller = make_account(plan="professional", credits=1000)
    catalog = Catalog(BUILTIN, {"local", "fal"})
    value = {"resolution": "480p", "fps": 12, "aspect_ratio": "1:1", "loop": True, "negative_prompt": "sun"}[field]
    body = {"mode": "text_to_video", "prompt": "sea", "model": HAILUO}
    with pytest.raises(ValidationError) as caught:
        _submit(caller.account_id, {**body, field: value}, catalog)
    assert caught.value.details["errors"] == [{"field": field, "message": f"is not supported by model {HAILUO}"}]
    assert _submit(caller.account_id, body, catalog).status == 202
    assert _submit(caller.account_id, {"mode": "text_to_video", "prompt": "sea", field: value}, catalog).status == 202


def test_an_upstream_music_model_refuses_a_negative_prompt(make_account):
    caller = make_account(plan="professional", credits=100)
    catalog = Catalog(BUILTIN, {"local", "fal"})
    body = {"mode": "music", "prompt": "jazz", "negative_prompt": "drums", "duration_seconds": 5}
    with pytest.raises(ValidationError) as caught:
        _submit(caller.account_id, {**body, "model": "fal-ai/stable-audio"}, catalog)
    assert caught.value.details["errors"][0]["field"] == "negative_prompt"
    assert _submit(caller.account_id, body, catalog).status == 202
