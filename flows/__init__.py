"""Prefect flows: one readable function per job, composed of tasks."""
