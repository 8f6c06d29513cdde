"""Delivery and runtime: settings, the CLI, the Slack app, the scheduler and the store."""
