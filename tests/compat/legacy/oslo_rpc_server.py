"""An oslo.messaging RPC server in nova's virtualenv: the far end of our RPC client.

Job (JSON on stdin): url, exchange, topic, server. It serves, on `topic` and `topic.server`:
  select_destinations(**args) -> the args back, as {"echo": args, "context": caller_context(ctxt)}
  no_valid_host(reason)      -> raises nova.exception.NoValidHost(reason=reason)
  sleep(seconds)             -> sleeps, then returns "slept" (call-monitor heartbeats meanwhile)
  and any method name as a cast recorder.
Every request is printed as a JSON line {"method", "args", "context"} before it is answered;
"READY" once consuming. Ends on stdin EOF or SIGTERM.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import oslo_messaging as messaging
from nova import exception
from oslo_config import cfg

_lock = threading.Lock()


# what oslo's listener adds to the caller's context from the envelope
_ENVELOPE_KEYS = ("msg_id", "reply_q", "client_timeout")


def caller_context(ctxt):
    return {k: v for k, v in ctxt.items() if k not in _ENVELOPE_KEYS}


def emit(line: object) -> None:
    with _lock:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


class Endpoint:
    target = messaging.Target(version="6.5")

    def select_destinations(self, ctxt, **kwargs):
        emit({"method": "select_destinations", "args": kwargs, "context": caller_context(ctxt)})
        return {"echo": kwargs, "context": caller_context(ctxt)}

    def no_valid_host(self, ctxt, reason):
        emit(
            {"method": "no_valid_host", "args": {"reason": reason}, "context": caller_context(ctxt)}
        )
        raise exception.NoValidHost(reason=reason)

    def sleep(self, ctxt, seconds):
        emit({"method": "sleep", "args": {"seconds": seconds}, "context": caller_context(ctxt)})
        time.sleep(seconds)
        return "slept"

    def build_and_run_instance(self, ctxt, **kwargs):
        emit({"method": "build_and_run_instance", "args": kwargs, "context": caller_context(ctxt)})


class SchedulerEndpoint(Endpoint):
    target = messaging.Target(version="4.5")


def main() -> None:
    job = json.loads(sys.stdin.readline())
    conf = cfg.CONF
    conf([], project="aioc-oslo-server")
    messaging.set_transport_defaults(control_exchange=job["exchange"])
    transport = messaging.get_rpc_transport(conf, url=job["url"])
    target = messaging.Target(topic=job["topic"], server=job["server"])
    endpoint = SchedulerEndpoint() if job["topic"] == "scheduler" else Endpoint()
    server = messaging.get_rpc_server(
        transport,
        target,
        [endpoint],
        executor="threading",
        access_policy=messaging.DefaultRPCAccessPolicy,
    )
    server.start()
    emit("READY")
    sys.stdin.read()  # until the test closes our stdin
    server.stop()
    server.wait()
    transport.cleanup()


if __name__ == "__main__":
    main()
