"""The webhook tests' loopback receivers serve the guarded-client tests too."""

from tests.webhooks.conftest import closed_port, make_receiver, receiver  # noqa: F401
