"""The account as a person and their programs see it (``GET /v1/account``, sign-up, login)."""

from __future__ import annotations

from typing import Any

from shared.credits import daily
from shared.db.models import Account
from shared.views import iso


def account_view(account: Account) -> dict[str, Any]:
    plan = account.plan
    day = daily.today()
    return {
        "id": account.id,
        "object": "account",
        "email": account.email,
        "premium": account.monthly_grant > 0,
        "plan": {"name": plan.id, "monthly_credits": account.monthly_grant,
                 "rate_limit_per_minute": account.rate_limit_per_minute,
                 "daily_credit_limit": account.daily_credit_limit,
                 "overage_rate_usd": float(plan.overage_rate_usd) if plan.overage_rate_usd is not None else None,
                 "pending": account.pending_plan_id},
        "credits": {"balance": account.balance, "remaining": account.balance - account.held,
                    "held": account.held, "monthly_grant": account.monthly_grant,
                    "monthly_remaining": account.monthly_remaining,
                    "free_signup_remaining": account.free_signup_remaining,
                    "used_this_period": account.period_used},
        "overage": {"enabled": plan.overage_enabled, "limit": plan.overage_limit_credits if plan.overage_enabled else 0,
                    "credits_this_period": account.overage_credits_period},
        "period": {"start": iso(account.period_start), "end": iso(account.period_end)},
        "daily_limit": {"limit": account.daily_credit_limit,
                        "used": account.daily_used if account.daily_used_on == day else 0,
                        "reset_at": iso(daily.reset_at(day))},
    }
