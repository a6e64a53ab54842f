"""The offline ``local`` provider: real media rendered in the worker with no network or models."""

from .provider import LocalProvider

__all__ = ["LocalProvider"]
