"""Schemathesis over every operation of ``/openapi.json`` against the real app (ASGI, real
PostgreSQL and Redis): no 5xx, no undocumented status code, every response matching its
documented schema and content type. Bounded: a fixed seed and a small example budget per
operation keep it to about a minute."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.dialects.postgresql import insert

from shared.db.models import Plan
from shared.db.session import session_scope
from tests.support import Caller, create_account_with_key

TEST_PLAN = "schemathesis"
#: Generated cases per operation and mode (valid, invalid); deterministic. Raise it locally for
#: a deeper search: ATELIER_SCHEMATHESIS_EXAMPLES=500.
EXAMPLES = int(os.environ.get("ATELIER_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module", autouse=True)
def _no_sync_wait(stack_env) -> Iterator[None]:
    """No worker runs here: synchronous OpenAI-style calls answer 202 with their job at once
    instead of waiting out ATELIER_SYNC_WAIT_SECONDS on each generated case."""
    from shared.settings import reset_settings

    saved = os.environ.get("ATELIER_SYNC_WAIT_SECONDS")
    os.environ["ATELIER_SYNC_WAIT_SECONDS"] = "0"
    reset_settings()
    yield
    if saved is None:
        os.environ.pop("ATELIER_SYNC_WAIT_SECONDS", None)
    else:
        os.environ["ATELIER_SYNC_WAIT_SECONDS"] = saved
    reset_settings()


@pytest.fixture(scope="module")
def fuzz_caller(stack_env) -> Caller:
    """An account on a plan whose rate limit is lifted, with a few credits (most job requests
    then answer 402 quickly instead of queueing hundreds of jobs)."""
    with session_scope() as session:
        session.execute(insert(Plan).values(id=TEST_PLAN, monthly_credits=0, signup_credits=0,
                                            rate_limit_per_minute=1_000_000).on_conflict_do_nothing())
    return create_account_with_key(TEST_PLAN, credits=20)


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_openapi_document_is_valid(client):
    from jsonschema_rs import validator_for  # noqa: F401  (installed with schemathesis)

    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)), "an operation is declared twice"
    text = str(document)
    assert "'422': {'description': 'Validation Error'" not in text and "HTTPValidationError" not in text
    schemes = {"HTTPBearer", "APIKeyHeader", "APIKeyQuery", "APIKeyCookie"}
    assert set(document["components"]["securitySchemes"]) == schemes
    events = document["paths"]["/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert list(events) == ["text/event-stream"]


def _fuzz(operation, headers: dict[str, str], mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_every_operation_conforms(api_schema, fuzz_caller):
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, fuzz_caller.headers, mode)
            except Unsatisfiable:
                pass  # nothing invalid to send: the operation takes no parameters
            except Exception as exc:  # every operation runs; all failures are reported together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
