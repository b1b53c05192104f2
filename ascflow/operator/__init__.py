"""The operator's commands that need no Python: deposit a key, start, follow and retry runs, a dry-run team."""
