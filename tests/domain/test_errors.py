"""One error family: what workers, storage and media decoding raise is an AtelierError too."""

from __future__ import annotations

from shared.errors import AtelierError
from shared.media.probe import MediaDecodeError
from shared.storage import InvalidKey, ObjectNotFound, StorageError
from workers.providers.base import GenerationFailed, JobAborted, ProviderError, UpstreamRejected, UpstreamUnavailable


def test_failures_below_the_api_are_atelier_errors_with_codes():
    for error, code in [(ProviderError("x"), "PROVIDER_ERROR"), (UpstreamRejected("x"), "UPSTREAM_REJECTED"),
                        (UpstreamUnavailable("x"), "UPSTREAM_UNAVAILABLE"),
                        (GenerationFailed("x"), "GENERATION_FAILED"),
                        (JobAborted("job_1"), "JOB_ABORTED"), (MediaDecodeError("x"), "UNSUPPORTED_MEDIA_TYPE"),
                        (StorageError("x"), "SERVICE_UNAVAILABLE")]:
        assert isinstance(error, AtelierError) and error.code == code and error.message
    assert UpstreamUnavailable("x").retryable and not UpstreamRejected("x").retryable
    assert isinstance(InvalidKey("a/../b", "dots"), ValueError)


def test_storage_errors_keep_paths_out_of_what_a_client_sees():
    error = StorageError("cannot write /var/lib/atelier/storage/acc_1/x.png: disk full")
    assert "/var/lib" in str(error)
    body = error.to_dict()["error"]
    assert body["status"] == 503 and "/var/lib" not in body["message"]
    missing = ObjectNotFound("acc_1/ast_1/x.png").to_dict()["error"]
    assert missing["status"] == 500 and "acc_1" not in missing["message"]
