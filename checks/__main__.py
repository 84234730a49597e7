"""`python -m checks [PATH] [options]`: the same command as `forgeguard audit`."""

import sys

from checks.cli import main

sys.exit(main())
