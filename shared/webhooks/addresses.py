"""Where a webhook may be sent: checked at job submit by the one address policy (``shared.net``).

The same policy runs again at connect time in the guarded client, because a hostname may
resolve differently by the time we send.
"""

from __future__ import annotations

import socket

from shared.errors import ValidationError
from shared.net.policy import BadURL, ForbiddenAddress, Resolver, check_url


def validate_webhook_url(url: str, *, allow_private: bool,
                         resolver: Resolver = socket.getaddrinfo) -> None:
    """Refuse (``ValidationError`` on ``webhook_url``) a URL a webhook must not be sent to.

    The resolved addresses are not echoed back, so the error does not map internal DNS.
    """
    try:
        check_url(url, allow_private=allow_private, resolver=resolver)
    except (BadURL, ForbiddenAddress) as exc:
        raise ValidationError.field("webhook_url", exc.message) from None
