"""jobs.inputs is the request's parameters, not its input files: rename it to jobs.params.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('jobs', 'inputs', new_column_name='params')


def downgrade() -> None:
    op.alter_column('jobs', 'params', new_column_name='inputs')
