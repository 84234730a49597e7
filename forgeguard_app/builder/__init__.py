"""The builder: approved contracts built into a pull request, phase by phase, every phase audited."""
