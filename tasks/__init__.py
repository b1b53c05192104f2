"""Prefect tasks: thin wrappers that give the pipeline's steps a retry policy, a run context and a cost."""
