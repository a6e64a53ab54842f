"""P1, P2, CG: request throughput of the API against the bare app, and against itself at scale."""

from __future__ import annotations

import statistics

from sqlalchemy import text

from bench.hotpaths.load import Load, Row, alternate, client, load, median_ratio, spread, throughput
from bench.hotpaths.stack import Stack, servers

JOB_BODY = {"mode": "text_to_image", "prompt": "bench", "size": "512x512"}


async def p1_p2(run: Stack, rounds: int, requests: int) -> list[Row]:
    headers = run.key.headers
    with servers(run) as (atelier, bare):
        async with client(atelier.url) as a, client(bare.url) as b:
            read_id = (await a.post("/v1/jobs", json=JOB_BODY, headers=headers)).json()["id"]

            async def post_a() -> Load:
                return await load(a, lambda c: c.post("/v1/jobs", json=JOB_BODY, headers=headers), requests,
                                  atelier.pid)

            async def post_b() -> Load:
                return await load(b, lambda c: c.post("/jobs", json=JOB_BODY), requests, bare.pid)

            async def get_a() -> Load:
                return await load(a, lambda c: c.get(f"/v1/jobs/{read_id}", headers=headers), requests, atelier.pid)

            async def get_b() -> Load:
                return await load(b, lambda c: c.get(f"/jobs/{read_id}", headers=headers), requests, bare.pid)

            # The floors: the least the contract needs per request, in bare code (bare_api.py).
            async def post_f() -> Load:
                return await load(b, lambda c: c.post("/floor/jobs", json=JOB_BODY, headers=headers), requests,
                                  bare.pid)

            async def get_f() -> Load:
                return await load(b, lambda c: c.get(f"/floor/jobs/{read_id}", headers=headers), requests, bare.pid)

            for warm_up in (post_a, post_b, post_f, get_a, get_b, get_f):  # connections, pools, imports
                await warm_up()
            posts, post_floors = await alternate(rounds, post_a, post_b), await alternate(rounds, post_f, post_b)
            gets, get_floors = await alternate(rounds, get_a, get_b), await alternate(rounds, get_f, get_b)
    rerun = f"python -m bench.hotpaths --only P1 P2 --rounds {rounds} --requests {requests}"
    return [_request_row("P1", "POST /v1/jobs req/s ÷ bare INSERT endpoint", posts, post_floors, 0.70, rerun),
            _request_row("P2", "GET /v1/jobs/{id} req/s ÷ bare key lookup + SELECT", gets, get_floors, 0.90,
                         rerun)]


def _request_row(row_id: str, measure: str, pairs: list[tuple[Load, Load]], floors: list[tuple[Load, Load]],
                 goal: float, rerun: str) -> Row:
    rates = [(a.rate, b.rate) for a, b in pairs]
    cpu = [(b.cpu_ms, a.cpu_ms) for a, b in pairs]  # bare ÷ Atelier: what the rate ratio is when CPU-bound
    ratio, cpu_a, cpu_b = median_ratio(rates), [a.cpu_ms for a, _ in pairs], [b.cpu_ms for _, b in pairs]
    floor_rates = [(f.rate, b.rate) for f, b in floors]
    return Row(row_id, measure, f"{ratio:.2f} (CPU {median_ratio(cpu):.2f})", f"≥ {goal:.2f}", ratio >= goal,
               f"median {statistics.median(a for a, _ in rates):.0f} vs {statistics.median(b for _, b in rates):.0f} "
               f"req/s, ratio {spread(rates)}; server CPU per request {statistics.median(cpu_a):.1f} vs "
               f"{statistics.median(cpu_b):.1f} ms, ratio {spread(cpu)}; the contract's floor in bare code "
               f"(rate limit, access line{', credit hold, enqueue' if row_id == 'P1' else ''}) ÷ bare: "
               f"{median_ratio(floor_rates):.2f} req/s ({spread(floor_rates)}), "
               f"{statistics.median(f.cpu_ms for f, _ in floors):.1f} ms CPU per request", rerun)


# CG: the same account-scoped reads with 100,000 rows behind them as with 100 -----------------------


def seed(account_id: str, template_job: str, rows: int) -> None:
    """``rows`` jobs and ledger entries for the account, cloned in SQL from existing rows (so this
    keeps working whatever the columns are called), spread over the last 30 days."""
    from shared.db.session import session_scope

    with session_scope() as session:
        session.execute(text(
            "INSERT INTO jobs SELECT (jsonb_populate_record(NULL::jobs, to_jsonb(j) || jsonb_build_object("
            "'id', 'job_' || substr(md5(CAST(:account AS text) || g), 1, 24), "
            "'account_id', CAST(:account AS text), 'status', 'completed',"
            "'created_at', now() - g * interval '25 seconds'))).* "
            "FROM jobs j, generate_series(1, CAST(:rows AS int)) g WHERE j.id = :template"),
            {"account": account_id, "rows": rows, "template": template_job})
        session.execute(text(
            "INSERT INTO credit_ledger SELECT (jsonb_populate_record(NULL::credit_ledger, to_jsonb(e) || "
            "jsonb_build_object('id', nextval(pg_get_serial_sequence('credit_ledger', 'id')), "
            "'account_id', CAST(:account AS text), 'created_at', now() - g * interval '25 seconds'))).* "
            "FROM (SELECT * FROM credit_ledger ORDER BY id LIMIT 1) e, generate_series(1, CAST(:rows AS int)) g"),
            {"account": account_id, "rows": rows})
        session.execute(text("ANALYZE jobs; ANALYZE credit_ledger"))


def _account_with(rows: int, template_job: str) -> tuple[str, dict[str, str]]:
    from bench.common import new_account, new_key

    account_id = new_account()
    seed(account_id, template_job, rows)
    return account_id, new_key(account_id).headers


CG_PATHS = ("/v1/jobs?limit=20", "/v1/account", "/v1/account/usage?limit=20")


async def cg(run: Stack, rounds: int, requests: int, big: int = 100_000, small: int = 100) -> list[Row]:
    _, big_headers = _account_with(big, run.template_job)
    _, small_headers = _account_with(small, run.template_job)
    worst, details = 0.0, []
    with servers(run) as (atelier, _):
        async with client(atelier.url) as a:
            for path in CG_PATHS:
                async def many(headers: dict[str, str], path: str = path) -> float:
                    return await throughput(a, lambda c: c.get(path, headers=headers), requests)

                await many(big_headers)
                await many(small_headers)
                # Latency ratio big ÷ small = throughput small ÷ big at the same concurrency.
                pairs = await alternate(rounds, lambda: many(small_headers), lambda: many(big_headers))
                ratio = median_ratio(pairs)
                worst = max(worst, ratio)
                details.append(f"{path.split('?')[0]} {ratio:.2f}")
    return [Row("CG", f"list/account/usage latency, {big:,} ÷ {small} rows (worst of 3)", f"{worst:.2f}",
                "≤ 1.2", worst <= 1.2, "; ".join(details),
                f"python -m bench.hotpaths --only CG --rounds {rounds} --requests {requests}")]
