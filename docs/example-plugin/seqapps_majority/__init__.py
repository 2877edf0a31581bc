"""Example third-party task for seqapps (see docs/writing-a-task-plugin.md)."""
