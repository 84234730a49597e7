"""The `forgeguard` console script: serve, worker, migrate, audit, replay."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "audit":
        from checks.cli import main as audit_main

        return audit_main(args[1:])
    print("usage: forgeguard {serve,worker,migrate,audit,replay} ...", file=sys.stderr)
    return 2
