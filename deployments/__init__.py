"""Running the flows: all of them from one process (local), or a work pool for `prefect deploy --all`."""
