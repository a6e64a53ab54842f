"""The fault suite's own stack (see harness.py), started once for the tests that need it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import FaultStack, fault_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[FaultStack]:
    # Not pytest's tmp_path: as root, the embedded PostgreSQL runs as its own user and must
    # reach its directory (pytest's base directory is private to root).
    with tempfile.TemporaryDirectory(prefix="atelier-faults-") as root, fault_stack(Path(root)) as s:
        yield s


@pytest.fixture(scope="session")
def api_url(stack: FaultStack) -> str:
    return stack.api()


@pytest.fixture(scope="session")
def beat(stack: FaultStack):
    """Beat and one worker for its periodic tasks (the sweeper), for the whole session."""
    stack.worker("housekeeper", queues="maintenance,webhooks", concurrency=1)
    return stack.beat()


@pytest.fixture
def domain(stack: FaultStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's settings, engine and clients pointed at the fault stack for one test."""
    from tests.conftest import _reset_caches

    for key, value in stack.env.items():
        if key != "TMPDIR":
            monkeypatch.setenv(key, value)
    _reset_caches()
    yield
    monkeypatch.undo()
    _reset_caches()


@pytest.fixture
def caller(domain):
    from tests.support import create_account_with_key

    return create_account_with_key(plan="professional")  # 120 requests a minute


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "stack" in item.fixturenames:
        report.sections.append(("fault stack logs", item.funcargs["stack"].dump()))


@pytest.fixture(autouse=True)
def _workers_stop_after_each_test(request) -> Iterator[None]:
    yield
    if "stack" in request.fixturenames:
        stack: FaultStack = request.getfixturevalue("stack")
        for proc in [p for p in stack.procs if p.name.startswith("worker")]:
            proc.stop()
            stack.procs.remove(proc)


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.faults.support import MEASURED

    if MEASURED:
        terminalreporter.section("fault recovery times")
        for name, seconds, note in MEASURED:
            terminalreporter.write_line(f"{seconds:6.1f} s  {name}" + (f"  ({note})" if note else ""))
