"""Audits reported as GitHub Check Runs: events → audit jobs → check runs."""
