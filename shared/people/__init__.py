"""People: sign-up, sessions, their own keys, plans, daily limits, usage, alerts, audit log."""
