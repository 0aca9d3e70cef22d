"""One thin CLI module per workflow rule: ``python -m reproflow.cli.<rule_name> --help``."""
