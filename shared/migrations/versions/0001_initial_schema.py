"""Initial schema: plans (seeded), accounts, API keys, assets, jobs, job inputs, credit ledger,
idempotency records, webhook events and attempts.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:42:33.920815
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plans',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('monthly_credits', sa.Integer(), nullable=False),
    sa.Column('signup_credits', sa.Integer(), nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('overage_rate_usd', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('overage_limit_credits', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('plan_id', sa.String(length=32), nullable=False),
    sa.Column('balance', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('held', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('free_signup_remaining', sa.Integer(), server_default='0', nullable=False),
    sa.Column('overage_credits_period', sa.Integer(), server_default='0', nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('webhook_secret', sa.String(length=80), nullable=False),
    sa.Column('previous_webhook_secret', sa.String(length=80), nullable=True),
    sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('held >= 0', name=op.f('ck_accounts_held_not_negative')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_accounts_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('secret_hash', sa.String(length=128), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_keys_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys'))
    )
    op.create_index(op.f('ix_api_keys_account_id'), 'api_keys', ['account_id'], unique=False)
    op.create_table('credit_ledger',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('job_id', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('held_change', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('held_after', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_ledger_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_ledger'))
    )
    op.create_index('ix_credit_ledger_account_created', 'credit_ledger', ['account_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_credit_ledger_job_id'), 'credit_ledger', ['job_id'], unique=False)
    op.create_table('idempotency_records',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_idempotency_records_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'key', name=op.f('pk_idempotency_records'))
    )
    op.create_index(op.f('ix_idempotency_records_expires_at'), 'idempotency_records', ['expires_at'], unique=False)
    op.create_table('jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=True),
    sa.Column('inputs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('estimated_credits', sa.Integer(), nullable=False),
    sa.Column('held_credits', sa.Integer(), nullable=False),
    sa.Column('credits_charged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('pricing', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('webhook_url', sa.Text(), nullable=True),
    sa.Column('webhook_events', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('upstream', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_jobs_progress_range')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_jobs_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index('ix_jobs_account_created', 'jobs', ['account_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_jobs_status_updated', 'jobs', ['status', 'updated_at'], unique=False)
    op.create_table('assets',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('duration_seconds', sa.Double(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=40), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_assets_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_assets_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets'))
    )
    op.create_index('ix_assets_account_created', 'assets', ['account_id', 'created_at', 'id'], unique=False)
    op.create_index(op.f('ix_assets_job_id'), 'assets', ['job_id'], unique=False)
    op.create_table('webhook_events',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('job_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('schedule_offset', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_webhook_events_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_webhook_events_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events'))
    )
    op.create_index('ix_webhook_events_due', 'webhook_events', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_webhook_events_job_id'), 'webhook_events', ['job_id'], unique=False)
    op.create_table('job_inputs',
    sa.Column('job_id', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('asset_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_job_inputs_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_inputs_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'role', name=op.f('pk_job_inputs'))
    )
    op.create_index(op.f('ix_job_inputs_asset_id'), 'job_inputs', ['asset_id'], unique=False)
    op.create_table('webhook_attempts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'], name=op.f('fk_webhook_attempts_event_id_webhook_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    op.create_index(op.f('ix_webhook_attempts_event_id'), 'webhook_attempts', ['event_id'], unique=False)

    plans = sa.table(
        "plans",
        sa.column("id", sa.String), sa.column("monthly_credits", sa.Integer),
        sa.column("signup_credits", sa.Integer), sa.column("rate_limit_per_minute", sa.Integer),
        sa.column("overage_rate_usd", sa.Numeric), sa.column("overage_limit_credits", sa.Integer),
    )
    op.bulk_insert(plans, [
        {"id": "free", "monthly_credits": 0, "signup_credits": 1, "rate_limit_per_minute": 10,
         "overage_rate_usd": None, "overage_limit_credits": 0},
        {"id": "starter", "monthly_credits": 1000, "signup_credits": 1, "rate_limit_per_minute": 30,
         "overage_rate_usd": 0.04, "overage_limit_credits": 1000},
        {"id": "professional", "monthly_credits": 5000, "signup_credits": 1, "rate_limit_per_minute": 120,
         "overage_rate_usd": 0.02, "overage_limit_credits": 5000},
    ])


def downgrade() -> None:
    op.drop_index(op.f('ix_webhook_attempts_event_id'), table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index(op.f('ix_job_inputs_asset_id'), table_name='job_inputs')
    op.drop_table('job_inputs')
    op.drop_index(op.f('ix_webhook_events_job_id'), table_name='webhook_events')
    op.drop_index('ix_webhook_events_due', table_name='webhook_events')
    op.drop_table('webhook_events')
    op.drop_index(op.f('ix_assets_job_id'), table_name='assets')
    op.drop_index('ix_assets_account_created', table_name='assets')
    op.drop_table('assets')
    op.drop_index('ix_jobs_status_updated', table_name='jobs')
    op.drop_index('ix_jobs_account_created', table_name='jobs')
    op.drop_table('jobs')
    op.drop_index(op.f('ix_idempotency_records_expires_at'), table_name='idempotency_records')
    op.drop_table('idempotency_records')
    op.drop_index(op.f('ix_credit_ledger_job_id'), table_name='credit_ledger')
    op.drop_index('ix_credit_ledger_account_created', table_name='credit_ledger')
    op.drop_table('credit_ledger')
    op.drop_index(op.f('ix_api_keys_account_id'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_table('accounts')
    op.drop_table('plans')
