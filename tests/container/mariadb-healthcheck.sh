#!/bin/sh
# Stand-in for the official image's healthcheck.sh: accepts its flags and checks what
# `--connect --innodb_initialized` check: a TCP login works and InnoDB is up.
mariadb -uroot -p"${MARIADB_ROOT_PASSWORD}" -h127.0.0.1 -N -e \
  "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE = 'InnoDB' AND SUPPORT IN ('YES', 'DEFAULT')" \
  2>/dev/null | grep -qx 1
