"""The webhook tests' loopback receivers, for alert deliveries."""

from tests.webhooks.conftest import make_receiver, receiver  # noqa: F401
