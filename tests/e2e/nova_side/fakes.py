"""Runs under nova 34.0.0's virtualenv: nova's own glance and neutron test fixtures, set up
in this process as nova's functional tests set them up (no glance or neutron runs here).

They patch nova's image and network API modules, so they must be set up after nova has
parsed its configuration and before the first request; nothing tears them down, the
process ends with them.
"""

import fixtures


class _Host:
    """What the fixtures ask of the test case that uses them (nova.test.TestCase's
    useFixture, stub_out and flags), without a test case."""

    def useFixture(self, fixture):
        fixture.setUp()
        return fixture

    def stub_out(self, old, new):
        self.useFixture(fixtures.MonkeyPatch(old, new))

    def flags(self, **overrides):
        from nova import conf

        group = overrides.pop("group", None)
        for name, value in overrides.items():
            conf.CONF.set_override(name, value, group)


def install_glance_and_neutron():
    from nova.tests import fixtures as nova_fixtures

    host = _Host()
    host.useFixture(nova_fixtures.GlanceFixture(host))
    host.useFixture(nova_fixtures.NeutronFixture(host))
