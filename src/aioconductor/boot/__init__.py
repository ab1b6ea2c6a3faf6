"""The native boot path: compute_task.schedule_and_build_instances (docs/native-methods.md)."""
