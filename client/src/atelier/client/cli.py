"""``atelier-client``: the API from a terminal. Needs ``ATELIER_API_URL`` + ``ATELIER_API_KEY``
(or the ``dev.env`` of ``$ATELIER_HOME``). Every command takes ``--json`` for machine-readable output."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from atelier.client import _render as render
from atelier.client._sync import Atelier, login
from atelier.client.errors import AtelierError, JobFailed
from atelier.client.models import ApiKey, Asset, Job

# The mode's main text field, when it is not ``prompt``.
TEXT_FIELD = {"audio": "voice_text"}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _asset_ref(client: Atelier, ref: str) -> str:
    """An existing asset id as is; a file is uploaded first."""
    if ref.startswith("ast_") and not Path(ref).exists():
        return ref
    return client.upload(ref).id


def _job_params(client: Atelier, args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {k: _value(v) for k, v in (pair.split("=", 1) for pair in args.set or [])}
    field = TEXT_FIELD.get(args.mode, "prompt")
    if args.mode == "image_to_video" and not args.audio and not args.voice_text:
        field = "voice_text"  # the avatar says the text
    if args.text is not None:
        params[field] = args.text
    for name, value in (("model", args.model), ("voice_id", args.voice), ("voice_text", args.voice_text)):
        if value:
            params[name] = value
    if args.image:
        params["input_image_asset_id"] = _asset_ref(client, args.image)
    if args.audio:
        params["audio_asset_id"] = _asset_ref(client, args.audio)
    return params


def _save_results(client: Atelier, job: Job, output: str | None) -> list[Path]:
    if not output:
        return []
    target = Path(output)
    if len(job.assets) == 1 or target.is_dir():
        return [client.download(asset, target) for asset in job.assets]
    return [client.download(asset, target.with_name(f"{target.stem}-{i}{target.suffix}"))
            for i, asset in enumerate(job.assets, 1)]


def cmd_generate(client: Atelier, args: argparse.Namespace) -> int:
    job = client.jobs.create(args.mode, **_job_params(client, args))
    if args.wait:
        with render.job_progress(job.id, enabled=not args.quiet) as update:
            job = client.jobs.wait(job.id, via="sse", on_event=update)
        if job.status != "completed":
            raise JobFailed(job)
    saved = _save_results(client, job, args.output)
    if args.json:
        render.as_json({**job.raw, "saved": [str(p) for p in saved]})
    elif not args.wait:
        render.out.print(f"{job.id} {job.status} (~{job.estimated_credits} credits held)")
    else:
        for asset in job.assets:
            render.out.print(f"{asset.id}  {asset.content_type}  {asset.bytes} bytes  {asset.url}")
        for path in saved:
            render.out.print(f"saved {path}")
    return 0


def _job_row(job: Job) -> list[Any]:
    return [job.id, job.mode, job.status, f"{job.progress}%", job.credits_charged or job.estimated_credits,
            job.created_at]


def cmd_jobs(client: Atelier, args: argparse.Namespace) -> int:
    if args.action == "ls":
        page = client.jobs.list(status=args.status, mode=args.mode, limit=min(args.limit, 100))
        jobs = list(page) if args.all else page.data[: args.limit]
        if args.json:
            render.as_json([j.raw for j in jobs])
        else:
            render.table("jobs", ["id", "mode", "status", "progress", "credits", "created"], map(_job_row, jobs))
        return 0
    if args.action == "rm":
        client.jobs.delete(args.id)
        render.as_json({"id": args.id, "deleted": True}) if args.json else render.out.print(f"deleted {args.id}")
        return 0
    job = client.jobs.cancel(args.id) if args.action == "cancel" else client.jobs.get(args.id, wait=args.wait)
    if args.json:
        render.as_json(job.raw)
    else:
        render.table(job.id, ["id", "mode", "status", "progress", "credits", "created"], [_job_row(job)])
        for asset in job.assets:
            render.out.print(f"  {asset.id}  {asset.content_type}  {asset.url}")
        if job.error:
            render.out.print(f"  error: {job.error.get('code')}: {job.error.get('message')}")
    return 0


def _asset_row(asset: Asset) -> list[Any]:
    return [asset.id, asset.kind, asset.content_type, asset.bytes, asset.source, asset.created_at]


def cmd_assets(client: Atelier, args: argparse.Namespace) -> int:
    if args.action == "download":
        path = client.download(args.id, args.output or ".")
        render.as_json({"id": args.id, "path": str(path)}) if args.json else render.out.print(f"saved {path}")
        return 0
    if args.action == "upload":
        assets = [client.upload(args.file, kind=args.kind)]
    else:
        page = client.assets.list(kind=args.kind, limit=min(args.limit, 100))
        assets = list(page) if args.all else page.data[: args.limit]
    if args.json:
        render.as_json([a.raw for a in assets] if args.action == "ls" else assets[0].raw)
    else:
        render.table("assets", ["id", "kind", "type", "bytes", "source", "created"], map(_asset_row, assets))
    return 0


def cmd_account(client: Atelier, args: argparse.Namespace) -> int:
    account = client.account.get()
    if args.json:
        render.as_json(account.raw)
    else:
        c = account.credits
        render.table("account", ["id", "email", "plan", "remaining", "held", "monthly grant"],
                     [[account.id, account.email, account.plan, c.remaining, c.held, c.monthly_grant]])
    return 0


def cmd_usage(client: Atelier, args: argparse.Namespace) -> int:
    page = client.account.usage(from_=args.since, to=args.until, limit=min(args.limit, 100))
    entries = list(page) if args.all else page.data[: args.limit]
    if args.json:
        render.as_json([e.raw for e in entries])
    else:
        render.table("credit ledger", ["when", "kind", "amount", "held", "balance", "job"],
                     ([e.created_at, e.kind, e.amount, e.held_change, e.balance_after, e.job_id] for e in entries))
    return 0


def _key_row(key: ApiKey) -> list[Any]:
    return [key.id, key.name or "", key.prefix or "", key.created_at, key.last_used_at or "", key.revoked_at or ""]


def cmd_keys(client: Atelier, args: argparse.Namespace) -> int:
    if args.action == "revoke":
        client.keys.revoke(args.id)
        render.as_json({"id": args.id, "revoked": True}) if args.json else print(f"revoked {args.id}")
        return 0
    if args.action == "ls":
        keys = client.keys.list()
        if args.json:
            render.as_json([k.raw for k in keys])
        else:
            render.table("API keys", ["id", "name", "prefix", "created", "last used", "revoked"], map(_key_row, keys))
        return 0
    key = client.keys.create(args.name, daily_credit_limit=args.daily_limit) if args.action == "create" \
        else client.keys.rotate(args.id)
    if args.json:
        render.as_json(key.raw)
    else:
        print(f"{key.id}: {key.key}\n(the secret is shown this once: store it now)")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    password = os.environ.get("ATELIER_PASSWORD") or getpass.getpass("password: ")
    token = login(args.email, password, base_url=args.api_url)
    if args.json:
        render.as_json({"session_token": token})
    else:
        print(token)
        render.err.print("a session token: pass it as --api-key (or ATELIER_API_KEY) to manage keys")
    return 0


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    parser.add_argument("--all", action="store_true", help="every page, not only the first")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atelier-client", description=__doc__)
    parser.add_argument("--api-url", help="default: $ATELIER_API_URL, then $ATELIER_HOME/dev.env")
    parser.add_argument("--api-key", help="default: $ATELIER_API_KEY, then $ATELIER_HOME/dev.env")
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", parents=[json_flag], help="create a job, show its progress, save the result")
    gen.add_argument("mode", help="text_to_image, image_to_image, audio, music, image_to_video, text_to_video")
    gen.add_argument("text", nargs="?", help="the prompt (voice_text for audio, and for a talking image_to_video)")
    gen.add_argument("--image", help="input image: a file to upload or an asset id")
    gen.add_argument("--audio", help="input audio: a file to upload or an asset id")
    gen.add_argument("-o", "--output", help="save the result here (a file, or a directory)")
    gen.add_argument("--model")
    gen.add_argument("--voice", help="voice_id")
    gen.add_argument("--voice-text", help="voice_text, when the text argument is the prompt")
    gen.add_argument("--set", action="append", metavar="FIELD=VALUE", help="any other field (JSON value)")
    gen.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True, help="wait for the result")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    jobs = sub.add_parser("jobs", help="list, show, cancel, delete jobs").add_subparsers(dest="action", required=True)
    ls = jobs.add_parser("ls", parents=[json_flag])
    ls.add_argument("--status")
    ls.add_argument("--mode")
    _list_options(ls)
    get = jobs.add_parser("get", parents=[json_flag])
    get.add_argument("id")
    get.add_argument("--wait", type=float, help="long-poll up to N seconds for the job to finish")
    for action in ("cancel", "rm"):
        jobs.add_parser(action, parents=[json_flag]).add_argument("id")
    assets = sub.add_parser("assets", help="upload, download, list assets").add_subparsers(dest="action",
                                                                                          required=True)
    up = assets.add_parser("upload", parents=[json_flag])
    up.add_argument("file")
    up.add_argument("--kind", choices=["image", "audio", "video"])
    down = assets.add_parser("download", parents=[json_flag])
    down.add_argument("id")
    down.add_argument("-o", "--output", help="file or directory (default: here)")
    als = assets.add_parser("ls", parents=[json_flag])
    als.add_argument("--kind", choices=["image", "audio", "video"])
    _list_options(als)
    sub.add_parser("account", parents=[json_flag], help="plan and credits")
    usage = sub.add_parser("usage", parents=[json_flag], help="credit ledger: holds, charges, grants")
    usage.add_argument("--since", help="ISO date/time")
    usage.add_argument("--until", help="ISO date/time")
    _list_options(usage)
    _person_commands(sub, json_flag)
    return parser


def _person_commands(sub: Any, json_flag: argparse.ArgumentParser) -> None:
    """``login`` and ``keys``: a person's session manages keys."""
    login_cmd = sub.add_parser("login", parents=[json_flag],
                               help="a session token for your email (password from $ATELIER_PASSWORD or a prompt)")
    login_cmd.add_argument("email")
    keys = sub.add_parser("keys", help="list, create, rotate, revoke API keys (with a session token as the key)"
                          ).add_subparsers(dest="action", required=True)
    keys.add_parser("ls", parents=[json_flag])
    create = keys.add_parser("create", parents=[json_flag])
    create.add_argument("--name")
    create.add_argument("--daily-limit", type=int, help="credits per UTC day")
    for action in ("rotate", "revoke"):
        keys.add_parser(action, parents=[json_flag]).add_argument("id")


COMMANDS = {"generate": cmd_generate, "jobs": cmd_jobs, "assets": cmd_assets, "account": cmd_account,
            "usage": cmd_usage, "keys": cmd_keys}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "login":
            return cmd_login(args)
        with Atelier(api_key=args.api_key, base_url=args.api_url) as client:
            return COMMANDS[args.command](client, args)
    except AtelierError as exc:
        render.err.print(f"[red]error:[/red] {render.explain(exc)}")
        return 1
    except (OSError, ValueError) as exc:
        render.err.print(f"[red]error:[/red] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
