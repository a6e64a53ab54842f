"""The Studio against the real stack: uvicorn (``live_server``), a real Celery worker, real
Postgres and Redis, local storage; one headless Chromium per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.studio.support import Studio, start_browser


@pytest.fixture(scope="module")
def browser() -> Iterator:
    driver = start_browser()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def studio(browser, live_server, celery_worker) -> Studio:
    return Studio(browser, live_server)


@pytest.fixture
def no_console_errors(studio: Studio) -> Iterator[None]:
    """The test's page logs no error to the console (failed loads, exceptions, console.error)."""
    studio.console_errors()  # start from a clean log
    yield
    assert studio.console_errors() == []
