"""Migrations: one head, and the schema they build is the one the models describe."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from shared.db.migrate import alembic_config


def test_migrations_have_a_single_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_jobs_keep_the_request_parameters_in_params(stack_env):
    engine = create_engine(stack_env["ATELIER_DATABASE_URL"])
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("jobs")}
    finally:
        engine.dispose()
    assert "params" in columns and "inputs" not in columns
