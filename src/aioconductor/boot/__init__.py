"""The native boot path of compute_task.schedule_and_build_instances (issue 23)."""
