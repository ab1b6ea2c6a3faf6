"""Runs under nova 34.0.0's virtualenv, in the nova-compute that reschedules
(`e2e-compute-1` of a run with rescheduled servers): nova's own FakeRescheduleDriver, which
fails the first spawn of every instance, narrowed to the servers the scenario means to
reschedule (named `e2e-resched-*`); every other server builds there at once.

nova loads its driver as `nova.virt.<compute_driver>`, so service.py registers this module
as `nova.virt.e2e_reschedule` before nova-compute loads it.
"""

from nova.virt import fake

MODULE = "nova.virt.e2e_reschedule"
PREFIX = "e2e-resched-"


class NamedRescheduleDriver(fake.FakeRescheduleDriver):
    def spawn(self, context, instance, *args, **kwargs):
        if not (instance.display_name or "").startswith(PREFIX):
            self.rescheduled[instance.uuid] = True  # as if it had failed once already
        super().spawn(context, instance, *args, **kwargs)
