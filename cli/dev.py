"""``atelier dev``: the whole stack on one machine.

Starts embedded PostgreSQL and Redis under ``$ATELIER_HOME`` when ``ATELIER_DATABASE_URL`` /
``ATELIER_REDIS_URL`` are not set in the environment, migrates, makes sure a development
account and key exist, writes ``$ATELIER_HOME/dev.env`` for other commands, then runs the
API, a worker per queue group, beat and Flower until Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from shared.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.settings import dev_env_path, reset_settings

DEV_EMAIL = "dev@atelier.local"


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and
             not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def _write_env_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# Written by `atelier dev`; read by other atelier commands with this ATELIER_HOME.\n"
                   + "".join(f"{k}={v}\n" for k, v in values.items()))
    tmp.chmod(0o600)
    tmp.replace(path)


def signing_secret(previous: dict[str, str]) -> str:
    """This installation's own secret for signed URLs: generated once, then kept in dev.env."""
    return (os.environ.get("ATELIER_SIGNING_SECRET") or previous.get("ATELIER_SIGNING_SECRET")
            or secrets.token_urlsafe(48))


def _dev_key(previous_key: str | None) -> tuple[str, str]:
    """The dev account (starter plan: 1,000 monthly credits and the signup credit) and a working key."""
    from sqlalchemy import select

    from shared.accounts import authenticate, create_account, create_key
    from shared.db.models import Account
    from shared.db.session import session_scope
    from shared.errors import Unauthenticated

    with session_scope() as session:
        account = session.scalars(select(Account).where(Account.email == DEV_EMAIL)).one_or_none()
        if account is None:
            account = create_account(session, DEV_EMAIL, "starter")
        if previous_key:
            try:
                if authenticate(session, previous_key).account_id == account.id:
                    return account.id, previous_key
            except Unauthenticated:
                pass
        _, key = create_key(session, account.id, "dev")
        return account.id, key


def _services(home: Path, embedded: list[EmbeddedPostgres | EmbeddedRedis]) -> tuple[str, str]:
    """(database URL, Redis URL): the configured servers, else embedded ones started under ``home``
    (appended to ``embedded`` so the caller stops them)."""
    database_url = os.environ.get("ATELIER_DATABASE_URL")
    redis_url = os.environ.get("ATELIER_REDIS_URL")
    if not database_url:
        from shared.embedded import start_postgres

        typer.echo(f"starting embedded PostgreSQL in {home / 'pg'} …")
        pg = start_postgres(home / "pg", cleanup="stop")
        embedded.append(pg)
        database_url = pg.url
    if not redis_url:
        from shared.embedded import start_redis

        typer.echo(f"starting embedded Redis in {home / 'redis'} …")
        rd = start_redis(home / "redis" / "redis.db")
        embedded.append(rd)
        redis_url = rd.url
    return database_url, redis_url


def _commands(port: int, flower_port: int) -> list[list[str]]:
    """The stack's processes, as ``atelier`` sub-commands."""
    return [
        ["api", "--port", str(port)],
        ["worker", "--queues", "media.fast", "--concurrency", "2", "--name", "fast", "--metrics-port", "9101"],
        ["worker", "--queues", "media.slow", "--concurrency", "1", "--name", "slow", "--metrics-port", "9102"],
        ["worker", "--queues", "webhooks,maintenance", "--concurrency", "2", "--name", "ops",
         "--metrics-port", "9103"],
        ["beat"],
        ["flower", "--port", str(flower_port)],
    ]


def run_dev(port: int, flower_port: int) -> int:
    home = Path(os.environ.get("ATELIER_HOME", ".atelier")).expanduser().resolve()
    os.environ["ATELIER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    previous = _read_env_file(dev_env_path())
    embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
    database_url, redis_url = _services(home, embedded)
    env = {
        "ATELIER_DATABASE_URL": database_url,
        "ATELIER_REDIS_URL": redis_url,
        "ATELIER_API_URL": f"http://127.0.0.1:{port}",
        "ATELIER_WEBHOOK_ALLOW_PRIVATE": os.environ.get("ATELIER_WEBHOOK_ALLOW_PRIVATE", "true"),
        "ATELIER_SIGNING_SECRET": signing_secret(previous),
        "ATELIER_LOG_FORMAT": os.environ.get("ATELIER_LOG_FORMAT", "text"),  # JSON is for log pipelines
    }
    os.environ.update(env)
    reset_settings()
    children: list[subprocess.Popen[bytes]] = []
    try:
        from shared.db.migrate import upgrade

        upgrade(database_url)
        account_id, key = _dev_key(previous.get("ATELIER_API_KEY"))
        env["ATELIER_API_KEY"] = key
        env.update(flower_credentials(previous))
        _write_env_file(dev_env_path(), env)
        if env["ATELIER_WEBHOOK_ALLOW_PRIVATE"] == "true":
            typer.secho("warning: ATELIER_WEBHOOK_ALLOW_PRIVATE=true — webhooks may target loopback and "
                        "private addresses (development only).", fg="yellow", err=True)
        _banner(account_id, key, port, flower_port, env)
        child_env = {**os.environ, **env}
        for args in _commands(port, flower_port):
            children.append(subprocess.Popen([sys.executable, "-m", "cli", *args], env=child_env))
        return _supervise(children)
    finally:
        _stop(children)
        for server in reversed(embedded):
            server.stop()


def flower_credentials(previous: dict[str, str]) -> dict[str, str]:
    """Flower's dev login: kept from the previous dev.env, else a new random password."""
    user = previous.get("ATELIER_FLOWER_USER") or "atelier"
    password = previous.get("ATELIER_FLOWER_PASSWORD") or secrets.token_urlsafe(18)
    return {"ATELIER_FLOWER_USER": user, "ATELIER_FLOWER_PASSWORD": password}


def _banner(account_id: str, key: str, port: int, flower_port: int, env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{port}"
    flower = f"http://{env['ATELIER_FLOWER_USER']}:{env['ATELIER_FLOWER_PASSWORD']}@127.0.0.1:{flower_port}"
    typer.echo(f"""
Atelier is starting.
  API        {url}   (docs: {url}/docs)
  Flower     {flower}   (API: {flower}/api/workers)
  metrics    {url}/metrics, workers on :9101 (fast), :9102 (slow), :9103 (ops)
  account    {account_id}
  API key    {key}
  env file   {dev_env_path()}

Try it:
  curl -s -X POST {url}/v1/jobs -H "Authorization: Bearer {key}" \\
       -H "Content-Type: application/json" -d '{{"mode": "text_to_image", "prompt": "a lighthouse at dusk"}}'
or, with a progress bar:
  .venv/bin/atelier-client generate text_to_image "a lighthouse at dusk" -o lighthouse.png
""")


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping:
        for child in children:
            if child.poll() is not None:
                typer.echo(f"a child process exited ({_describe(child)}, code {child.returncode}); stopping",
                           err=True)
                return 1
        time.sleep(0.5)
    typer.echo("stopping …")
    return 0


def _describe(child: subprocess.Popen[bytes]) -> str:
    """``api --port 8000`` for ``python -m cli api --port 8000``."""
    args = child.args if isinstance(child.args, list) else [child.args]
    return " ".join(str(arg) for arg in args[3:])


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
