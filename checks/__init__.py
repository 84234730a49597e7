"""ForgeGuard's audit engine: the A1–A9 and W1–W3 governance checks.

Pure: no network, no database. Every check reads the repository through the
`Source`/`Snapshot` interface of `checks.source`, so the same engine runs on a
local git checkout and on data fetched from GitHub.
"""

__version__ = "0.1.0"
