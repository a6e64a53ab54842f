"""A claimed upstream job whose model left the catalog fails at once, on a real worker."""

from __future__ import annotations

from shared.catalog import Catalog
from shared.db.session import session_scope
from shared.jobs import modes, service
from shared.settings import Settings, get_settings
from tests.support import ledger_sum, wait_for_job


def test_a_job_whose_model_vanished_fails_promptly_and_releases_its_hold(client, celery_worker, make_account):
    caller = make_account(credits=10)
    # Accepted while fal was configured; the worker's catalog (no fal key) no longer has the model.
    with_fal = Catalog.from_settings(Settings(fal_key="k"))
    with session_scope() as session:
        job = service.create_job(session, caller.account_id,
                                 modes.parse({"mode": "text_to_image", "prompt": "p", "model": "fal-ai/flux/dev"}),
                                 with_fal, get_settings())
        job_id = job.id
    done = wait_for_job(client, caller, job_id, timeout=30)
    assert done["status"] == "failed", done
    assert done["error"] == {"code": "MODEL_UNAVAILABLE", "message": "Model fal-ai/flux/dev is no longer available."}
    assert done["upstream"] is None
    credits = client.get("/v1/account", headers=caller.headers).json()["credits"]
    assert (credits["balance"], credits["held"]) == (10, 0)
    assert ledger_sum(caller.account_id) == (10, 10)
