"""What the worker's claim and completion send to the database: the claim is one statement that
returns the claimed row, the completion reads neither the job's results nor the job again."""

from __future__ import annotations

from api.deps import get_catalog
from shared.db.models import Asset, Job
from shared.db.session import session_scope
from shared.ids import new_id
from shared.jobs import events, execution, modes, service
from shared.settings import get_settings
from shared.views import job_view
from tests.support import sql_sent_here


def image(account_id: str, job_id: str | None = None, source: str = "upload") -> Asset:
    asset_id = new_id("ast")
    return Asset(id=asset_id, account_id=account_id, kind="image", content_type="image/png", bytes=10,
                 sha256="0" * 64, width=4, height=4, source=source, job_id=job_id, filename=f"{asset_id}.png",
                 storage_key=f"{account_id}/{asset_id}.png")


def queued(account_id: str, body: dict) -> str:
    with session_scope() as session:
        job = service.create_job(session, account_id, modes.parse(body), get_catalog(), get_settings())
        session.info.pop("atelier_after_commit", None)  # driven by hand, no worker
        return job.id


def test_a_claim_is_one_statement_returning_the_job(make_account):
    caller = make_account(credits=5)
    job_id = queued(caller.account_id, {"mode": "text_to_image", "prompt": "a kite"})

    with sql_sent_here() as sent:
        claimed = execution.claim(job_id)

    assert claimed is not None and (claimed.attempt, claimed.prompt, claimed.inputs) == (1, "a kite", ())
    assert len(sent) == 1 and sent[0].startswith("UPDATE jobs SET status=") and "RETURNING" in sent[0]


def test_a_claim_reads_the_inputs_with_their_roles_in_one_statement(make_account):
    caller = make_account(credits=50)
    source = image(caller.account_id)
    with session_scope() as session:
        session.add(source)
    job_id = queued(caller.account_id, {"mode": "image_to_image", "prompt": "as ink",
                                        "input_image_asset_id": source.id})

    with sql_sent_here() as sent:
        claimed = execution.claim(job_id)

    assert claimed is not None and [(ref.role, ref.asset.id) for ref in claimed.inputs] == [("image", source.id)]
    assert claimed.inputs[0].asset.storage_key == source.storage_key
    assert len(sent) == 2 and sent[1].startswith("SELECT job_inputs.role, assets.")


def test_completion_reads_neither_the_results_nor_the_job_again(make_account, monkeypatch):
    published: list[dict] = []
    publish = events.publish_event
    monkeypatch.setattr(events, "publish_event",
                        lambda job_id, status, progress, view=None: published.append(view) or publish(
                            job_id, status, progress, view))
    caller = make_account(credits=5)
    job_id = queued(caller.account_id, {"mode": "text_to_image", "prompt": "a kite"})
    claimed = execution.claim(job_id)
    assert claimed is not None
    result = image(caller.account_id, job_id, source="generated")

    with sql_sent_here() as sent:
        assert execution.complete(claimed, [result])

    reads = [s for s in sent if s.startswith("SELECT")]
    assert [s.split(" FROM ")[1].split()[0] for s in reads] == ["jobs", "accounts"]  # the two row locks
    assert all(s.endswith(("FOR UPDATE", "FOR NO KEY UPDATE")) for s in reads)
    # The hold's release and the charge are one INSERT; six statements in all.
    assert [s for s in sent if s.startswith("INSERT INTO credit_ledger")] == [sent[3]] and len(sent) == 6
    with session_scope() as session:
        view = job_view(session.get(Job, job_id), get_settings().base_url)
    assert view["status"] == "completed" and [a["id"] for a in view["result"]["assets"]] == [result.id]
    # The completion event carries the same results, created_at included (returned by the INSERT).
    assert published[-1] is not None and published[-1]["result"] == view["result"]
