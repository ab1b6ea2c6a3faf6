"""Runs under nova's virtualenv (imported by the scripts beside it): oslo's `log` notification
driver's lines, written to a file as JSON lines {logger, level, message} for the other side."""

import json
import logging


class _JsonLines(logging.Handler):
    def __init__(self, path):
        super().__init__(logging.DEBUG)
        self._path = path

    def emit(self, record):
        line = {"logger": record.name, "level": record.levelname, "message": record.getMessage()}
        with open(self._path, "a") as out:
            out.write(json.dumps(line) + "\n")


def capture(path):
    """Every line oslo's LogDriver logs from now on (logger oslo.messaging.notification.*)."""
    if not path:
        return
    logger = logging.getLogger("oslo.messaging.notification")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_JsonLines(path))
