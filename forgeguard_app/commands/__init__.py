"""Comment commands: `/forge <command>` in issue and pull request comments, and the intake's GitHub side."""
