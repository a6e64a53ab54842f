"""httpx plumbing shared by the upstream adapters (fal, Replicate, OpenAI).

``session``: one provider's client, credentials and timeouts; ``errors``: HTTP failures as
provider errors; ``files``: what a result file is, inline outputs; ``download``: result files
fetched through ``shared.net``'s guarded client; ``helpers``: small mapping helpers.
"""

from workers.providers.http.download import download_to
from workers.providers.http.errors import UpstreamThrottled, error_message, scrub
from workers.providers.http.files import (
    MAX_DOWNLOAD_BYTES,
    SavedFile,
    input_reference,
    write_base64,
    write_data_uri,
)
from workers.providers.http.helpers import (
    exact_aspect_ratio,
    parse_size,
    percent_from_logs,
    poll_outcome,
    unsupported_mode,
)
from workers.providers.http.session import CallbackURL, UpstreamHTTP, make_client

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "CallbackURL",
    "SavedFile",
    "UpstreamHTTP",
    "UpstreamThrottled",
    "download_to",
    "error_message",
    "input_reference",
    "make_client",
    "exact_aspect_ratio",
    "parse_size",
    "percent_from_logs",
    "poll_outcome",
    "scrub",
    "unsupported_mode",
    "write_base64",
    "write_data_uri",
]
