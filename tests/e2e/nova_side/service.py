"""Runs under nova 34.0.0's virtualenv: a nova service binary with nova's glance and neutron
test fixtures set up in-process.

    python service.py nova-compute|nova-conductor|nova-scheduler --config-file FILE ...

The service is nova's own console-script entry point; only `nova.config.parse_args` is
wrapped, so the fixtures go in right after nova has read its configuration.
"""

import importlib
import sys

ENTRY_POINTS = {
    "nova-compute": "nova.cmd.compute",
    "nova-conductor": "nova.cmd.conductor",
    "nova-scheduler": "nova.cmd.scheduler",
}


def main():
    binary = sys.argv[1]
    # nova reads its config files (and its concurrency backend) from sys.argv
    sys.argv = [binary, *sys.argv[2:]]
    command = importlib.import_module(ENTRY_POINTS[binary])  # patches before the rest

    from fakes import install_glance_and_neutron
    from nova import config

    parse_args = config.parse_args

    def parse_args_then_install_fakes(*args, **kwargs):
        parse_args(*args, **kwargs)
        install_glance_and_neutron()
        if binary == "nova-compute":
            import reschedule_driver

            sys.modules[reschedule_driver.MODULE] = reschedule_driver

    config.parse_args = parse_args_then_install_fakes
    command.main()


if __name__ == "__main__":
    main()
