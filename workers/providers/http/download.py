"""Result downloads from wherever an upstream says its output is, through the guarded client.

The URL is the upstream's (and so, indirectly, the account's) choice: the client connects
only where ``shared.net``'s policy allows, re-checked on every redirect hop, and the body is
cut off at the size limit. No credentials are sent: result files live on CDNs.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from shared.net import BadURL, ForbiddenAddress, TooManyRedirects, open_stream, save_body
from workers.providers.base import GenerationFailed, ProviderError
from workers.providers.http.errors import error_for_exception, error_for_response
from workers.providers.http.files import (
    MAX_DOWNLOAD_BYTES,
    SavedFile,
    finalize,
    output_limits,
    part_path,
    write_data_uri,
)


def download_to(
    client: httpx.Client,
    url: str,
    dest_path: Path,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    follow_redirects: bool = True,
    content_type_hint: str | None = None,
    provider: str = "upstream",
) -> SavedFile:
    """Stream a result file to ``dest_path`` (a suffix is added from the detected type).

    ``client`` is a ``shared.net.guarded_client`` for any URL an upstream handed back.
    """
    if url.startswith("data:"):
        return write_data_uri(url, dest_path, max_bytes=max_bytes)
    failure: ProviderError | None = None
    try:
        with open_stream(client, url, follow_redirects=follow_redirects) as response:
            if not response.is_success:
                failure = error_for_response(response, provider=provider)
            else:
                part = part_path(dest_path)
                with output_limits():
                    size = save_body(response, part, max_bytes=max_bytes)
                header = content_type_hint or response.headers.get("content-type")
                return finalize(part, dest_path, size, header=header, url=str(response.url))
    except ForbiddenAddress as exc:
        failure = GenerationFailed(f"refusing to download an output: {exc.message}")
    except BadURL as exc:
        failure = GenerationFailed(f"refusing to download an output whose URL {exc.message}")
    except TooManyRedirects:
        failure = GenerationFailed(f"{provider}: too many redirects while downloading an output")
    except httpx.HTTPError as exc:
        failure = error_for_exception(exc, provider=provider)
    assert failure is not None
    raise failure
