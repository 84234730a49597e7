"""`python -m forgeguard_app` is the `forgeguard` command."""

from forgeguard_app.cli import main

raise SystemExit(main())
