"""A local App Store Connect served over real HTTP (see README.md). Shares no code with ascflow.connect."""
