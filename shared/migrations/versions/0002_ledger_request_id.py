"""Ledger rows of synchronous requests (chat completions, embeddings) carry the request's id.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('credit_ledger', sa.Column('request_id', sa.String(length=40), nullable=True))
    op.create_index(op.f('ix_credit_ledger_request_id'), 'credit_ledger', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_credit_ledger_request_id'), table_name='credit_ledger')
    op.drop_column('credit_ledger', 'request_id')
