"""People: passwords and sessions, key and plan daily limits, plans business/enterprise with
per-account limits, monthly grant tracking, statements, usage index, alerts, audit log.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _accounts() -> None:
    for column in (
        sa.Column('password_hash', sa.String(length=200), nullable=True),
        sa.Column('monthly_remaining', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('period_used', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('period_granted', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('pending_plan_id', sa.String(length=32), nullable=True),
        sa.Column('custom_monthly_credits', sa.Integer(), nullable=True),
        sa.Column('custom_rate_limit_per_minute', sa.Integer(), nullable=True),
        sa.Column('custom_daily_credit_limit', sa.Integer(), nullable=True),
        sa.Column('daily_used', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('daily_used_on', sa.Date(), nullable=True),
        sa.Column('alert_webhook_url', sa.Text(), nullable=True),
        sa.Column('alert_thresholds', postgresql.JSONB(astext_type=sa.Text()), server_default='[]',
                  nullable=False),
        sa.Column('alerts_sent', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    ):
        op.add_column('accounts', column)
    op.create_foreign_key(op.f('fk_accounts_pending_plan_id_plans'), 'accounts', 'plans',
                          ['pending_plan_id'], ['id'])
    # Existing accounts: what is left of this period's monthly grant is at most their balance.
    op.execute("UPDATE accounts SET monthly_remaining = GREATEST(0, LEAST(balance - free_signup_remaining,"
               " (SELECT monthly_credits FROM plans WHERE plans.id = accounts.plan_id))),"
               " period_granted = (SELECT monthly_credits FROM plans WHERE plans.id = accounts.plan_id)")


def _keys_and_ledger() -> None:
    op.add_column('plans', sa.Column('daily_credit_limit', sa.Integer(), nullable=True))
    op.add_column('api_keys', sa.Column('daily_credit_limit', sa.Integer(), nullable=True))
    op.add_column('api_keys', sa.Column('daily_used', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('api_keys', sa.Column('daily_used_on', sa.Date(), nullable=True))
    op.add_column('jobs', sa.Column('api_key_id', sa.String(length=40), nullable=True))
    op.add_column('credit_ledger', sa.Column('api_key_id', sa.String(length=40), nullable=True))
    # The usage summary reads only charge rows of one account in a time range.
    op.create_index('ix_credit_ledger_charges', 'credit_ledger', ['account_id', 'created_at'],
                    postgresql_where=sa.text("kind = 'charge'"),
                    postgresql_include=['amount', 'api_key_id', 'job_id'])
    op.alter_column('webhook_events', 'job_id', existing_type=sa.String(length=40), nullable=True)


def _new_tables() -> None:
    op.create_table('sessions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=400), nullable=True),
    sa.Column('last_seen_at', _TS, nullable=False),
    sa.Column('revoked_at', _TS, nullable=True),
    sa.Column('created_at', _TS, server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sessions_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sessions_token_hash')),
    )
    op.create_index(op.f('ix_sessions_account_id'), 'sessions', ['account_id'], unique=False)
    op.create_table('statements',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('plan_id', sa.String(length=32), nullable=False),
    sa.Column('period_start', _TS, nullable=False),
    sa.Column('period_end', _TS, nullable=False),
    sa.Column('granted', sa.BigInteger(), nullable=False),
    sa.Column('used', sa.BigInteger(), nullable=False),
    sa.Column('overage_credits', sa.BigInteger(), nullable=False),
    sa.Column('overage_rate_usd', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('amount_due_usd', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('created_at', _TS, server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_statements_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('account_id', 'period_start', name='uq_statements_account_period'),
    )
    op.create_table('audit_events',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=340), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=400), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', _TS, server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_audit_events_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index('ix_audit_events_account_created', 'audit_events', ['account_id', 'created_at', 'id'])


def _seed_plans() -> None:
    plans = sa.table(
        "plans",
        sa.column("id", sa.String), sa.column("monthly_credits", sa.Integer),
        sa.column("signup_credits", sa.Integer), sa.column("rate_limit_per_minute", sa.Integer),
        sa.column("overage_rate_usd", sa.Numeric), sa.column("overage_limit_credits", sa.Integer),
    )
    op.bulk_insert(plans, [
        {"id": "business", "monthly_credits": 500, "signup_credits": 1, "rate_limit_per_minute": 60,
         "overage_rate_usd": 0.03, "overage_limit_credits": 500},
        # Enterprise defaults; the operator sets each account's own limits (`atelier plans set`).
        {"id": "enterprise", "monthly_credits": 10000, "signup_credits": 1, "rate_limit_per_minute": 600,
         "overage_rate_usd": 0.015, "overage_limit_credits": 10000},
    ])


def upgrade() -> None:
    _accounts()
    _keys_and_ledger()
    _new_tables()
    _seed_plans()


def downgrade() -> None:
    op.execute("UPDATE accounts SET plan_id = 'professional' WHERE plan_id IN ('business', 'enterprise')")
    op.execute("DELETE FROM plans WHERE id IN ('business', 'enterprise')")
    op.drop_index('ix_audit_events_account_created', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('statements')
    op.drop_index(op.f('ix_sessions_account_id'), table_name='sessions')
    op.drop_table('sessions')
    op.execute("DELETE FROM webhook_events WHERE job_id IS NULL")
    op.alter_column('webhook_events', 'job_id', existing_type=sa.String(length=40), nullable=False)
    op.drop_index('ix_credit_ledger_charges', table_name='credit_ledger')
    for table, column in (('credit_ledger', 'api_key_id'), ('jobs', 'api_key_id'), ('api_keys', 'daily_used_on'),
                          ('api_keys', 'daily_used'), ('api_keys', 'daily_credit_limit'),
                          ('plans', 'daily_credit_limit')):
        op.drop_column(table, column)
    op.drop_constraint(op.f('fk_accounts_pending_plan_id_plans'), 'accounts', type_='foreignkey')
    for column in ('alerts_sent', 'alert_thresholds', 'alert_webhook_url', 'daily_used_on', 'daily_used',
                   'custom_daily_credit_limit', 'custom_rate_limit_per_minute', 'custom_monthly_credits',
                   'pending_plan_id', 'period_granted', 'period_used', 'monthly_remaining', 'password_hash'):
        op.drop_column('accounts', column)
