#!/bin/sh
# The official image's RABBITMQ_DEFAULT_USER/PASS, as rabbitmq.conf settings. Debian's
# rabbitmq-server and rabbitmq-diagnostics switch to the rabbitmq user themselves.
set -eu
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
loopback_users = none
listeners.tcp.default = 5672
CONF
exec "$@"
