"""The ``atelier`` command: run the stack, and operate accounts, keys and credits."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import people
from shared.settings import get_settings, reset_settings

app = typer.Typer(help="Atelier: async media-generation job backend.", no_args_is_help=True,
                  add_completion=False)
accounts_app = typer.Typer(help="Operator: accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Operator: API keys.", no_args_is_help=True)
credits_app = typer.Typer(help="Operator: credits.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(credits_app, name="credits")
app.add_typer(people.plans_app, name="plans")
accounts_app.command("list")(people.accounts_list)
accounts_app.command("show")(people.accounts_show)
app.command("audit")(people.audit)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _out(as_json: bool, data: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(data) if as_json else text)


def _operate(fn: Any) -> Any:
    """Run an operator action in one transaction; errors print cleanly and exit 1."""
    from shared.db.session import session_scope
    from shared.errors import AtelierError

    try:
        with session_scope() as session:
            return fn(session)
    except AtelierError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@accounts_app.command("create")
def accounts_create(email: Annotated[str, typer.Option(help="Account email.")],
                    plan: Annotated[str, typer.Option(help="free, starter, professional, business, enterprise.")]
                    = "free",
                    as_json: JsonOpt = False) -> None:
    from shared.accounts import create_account

    def act(session: Any) -> dict[str, Any]:
        account = create_account(session, email, plan)
        return {"id": account.id, "email": account.email, "plan": account.plan_id,
                "balance": account.balance}

    data = _operate(act)
    _out(as_json, data, f"created account {data['id']} ({data['email']}, {data['plan']}, "
                        f"{data['balance']} credits)")


@keys_app.command("create")
def keys_create(account: Annotated[str, typer.Option(help="Account id (acc_…).")],
                name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
                as_json: JsonOpt = False) -> None:
    from shared.accounts import create_key

    def act(session: Any) -> dict[str, Any]:
        key, full = create_key(session, account, name)
        return {"id": key.id, "account_id": key.account_id, "name": key.name, "key": full}

    data = _operate(act)
    _out(as_json, data, f"created key {data['id']} for {data['account_id']}\n"
                        f"{data['key']}\n(shown once: store it now)")


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: JsonOpt = False) -> None:
    from shared.accounts import revoke_key

    def act(session: Any) -> dict[str, Any]:
        key = revoke_key(session, key_id)
        assert key.revoked_at is not None
        return {"id": key.id, "revoked": True, "revoked_at": key.revoked_at.isoformat()}

    data = _operate(act)
    _out(as_json, data, f"revoked key {data['id']}")


@credits_app.command("grant")
def credits_grant(account: Annotated[str, typer.Option(help="Account id (acc_…).")],
                  amount: Annotated[int, typer.Option(min=1, help="Credits to add.")],
                  reason: Annotated[str | None, typer.Option(help="Recorded in the ledger.")] = None,
                  as_json: JsonOpt = False) -> None:
    from shared.credits.ledger import grant

    data = _operate(lambda s: {"account_id": account, "amount": amount,
                               "balance": grant(s, account, amount, reason=reason or "operator grant")})
    _out(as_json, data, f"granted {amount} credits to {account}; balance {data['balance']}")


def _configured(*, redis: bool = True) -> None:
    """Fail with one clear line, not a traceback, when the stack is not configured."""
    settings = get_settings()
    try:
        settings.require_database_url()
        if redis:
            settings.require_redis_url()
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def migrate(as_json: JsonOpt = False) -> None:
    """Bring the database schema up to date."""
    from shared.db.migrate import upgrade

    _configured(redis=False)
    upgrade(get_settings().require_database_url())
    _out(as_json, {"migrated": True}, "database is up to date")


@app.command()
def api(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    _configured()
    from shared import logs

    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)
    # log_config=None: uvicorn's loggers propagate to our handler (JSON or text, with request ids).
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=None,
                access_log=False,  # api.request_context logs each request, with its ids
                log_level=settings.log_level.lower(), timeout_graceful_shutdown=5)


def _multiprocess_metrics_dir() -> None:
    """A clean ``PROMETHEUS_MULTIPROC_DIR`` for this node, set before prometheus_client is imported
    (it picks its multiprocess mode at import)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="atelier-metrics-"))
    if given and path.exists():
        shutil.rmtree(path)  # files of a previous run would be counted again
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


@app.command()
def worker(queues: Annotated[str, typer.Option(help="Comma-separated queues.")] =
           "media.fast,media.slow,webhooks,maintenance",
           concurrency: int = 2, name: str = "worker",
           metrics_port: Annotated[int | None, typer.Option(help="Serve this node's metrics here (0: off; "
                                                            "default $ATELIER_WORKER_METRICS_PORT).")] = None) -> None:
    """Run a Celery worker (prefork pool, so time limits are enforced)."""
    _configured()
    if metrics_port is not None:
        os.environ["ATELIER_WORKER_METRICS_PORT"] = str(metrics_port)
        reset_settings()
    if get_settings().worker_metrics_port:
        _multiprocess_metrics_dir()
    from workers.celery_app import app as celery

    celery.worker_main(["worker", "-Q", queues, "-c", str(concurrency), "-n", f"{name}@%h",
                        "--pool", "prefork", "--loglevel", get_settings().log_level])


@app.command()
def beat() -> None:
    """Run Celery beat (sweeper, webhook dispatcher, period roll-over, idempotency clean-up)."""
    _configured()
    from workers.celery_app import app as celery

    home = get_settings().home
    home.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", "-s", str(home / "celerybeat-schedule"), "--loglevel", get_settings().log_level])


@app.command()
def flower(port: int = 5555, address: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
           ) -> None:
    """Run Flower, the Celery monitor (basic auth from ATELIER_FLOWER_USER / ATELIER_FLOWER_PASSWORD)."""
    _configured()
    from workers.celery_app import app as celery

    settings = get_settings()
    if settings.flower_user and settings.flower_password:
        # Flower reads FLOWER_* variables: the password stays out of the process list.
        os.environ["FLOWER_BASIC_AUTH"] = f"{settings.flower_user}:{settings.flower_password.get_secret_value()}"
    celery.start(["flower", f"--port={port}", f"--address={address}"])


@app.command()
def dev(port: Annotated[int, typer.Option(help="API port.")] = 8000,
        flower_port: int = 5555) -> None:
    """Run the whole stack locally: embedded PostgreSQL and Redis unless URLs are set."""
    from cli.dev import run_dev

    sys.exit(run_dev(port=port, flower_port=flower_port))


if __name__ == "__main__":
    app()
