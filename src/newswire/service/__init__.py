"""The one way in: refreshing sources and following new ones, used by the CLI, the scheduler,
the workers and the web admin alike."""
