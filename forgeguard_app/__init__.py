"""ForgeGuard, the GitHub App: deliveries, jobs, check runs, commands, intake, builder."""

__version__ = "0.1.0"
