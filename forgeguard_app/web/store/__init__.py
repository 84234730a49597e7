"""The status site's reads and writes in PostgreSQL: the only modules of `web/` that hold SQL.

`sessions` (sign-in states, sessions), `access` (what GitHub lists for each
person), `audits` (the pages' audit lists and reports), `health` (the status
page's counts and health facts), `events` (NOTIFY).
"""
