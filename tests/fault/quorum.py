"""The quorum-queue cluster fault (issue 24): `rabbit_quorum_queue = true` on a three-node
cluster, a transport_url naming all three nodes, and the node leading the `conductor` queue
stopped under load (`rabbitmqctl stop_app`), then brought back (`start_app`).

The same load, audit and Outcome as tests/fault/scenarios.py; only the broker differs. Each
run boots its own cluster (every conductor meets a cluster that never lost a node) on the
lab's MariaDB and seed. nova's client names only the two nodes that keep running: the
node stopped is the conductor's fault, the caller's link stays up for both conductors."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from tests.fault.audit import Outcome, audit_calls
from tests.fault.cluster import RabbitCluster
from tests.fault.conductors import Conductor
from tests.fault.lab import HEARTBEAT_THRESHOLD, RESPONSE_TIMEOUT, Lab, Run
from tests.fault.readiness import ReadyzWatcher

QUEUE = "conductor"
COMMAND = "rabbitmqctl -n <leader of conductor> stop_app; 15 s; start_app"
KILL_COMMAND = "kill -9 <leader of conductor>'s Erlang VM; 15 s; rabbitmq-server again"
FOLLOWER_COMMAND = (
    "conductor on the 2 other nodes; rabbitmqctl -n <leader of conductor> stop_app; 15 s; start_app"
)


class ClusterRun(Run):
    """A Run whose broker is a RabbitCluster: the conductor's transport_url names every node
    and both sides run with `rabbit_quorum_queue = true`."""

    def __init__(self, lab: Lab, kind: str, name: str, cluster: RabbitCluster) -> None:
        super().__init__(lab, kind, name)
        self.cluster = cluster
        self.conductor_nodes = list(cluster.nodes)
        self.client_nodes = list(cluster.nodes)

    def _url(self, ports: list[int]) -> str:
        hosts = ",".join(f"guest:guest@127.0.0.1:{port}" for port in ports)
        return f"rabbit://{hosts}/{self.vhost}"

    def conductor_conf(self) -> Path:
        path = super().conductor_conf()
        text = path.read_text()
        single = f"rabbit://guest:guest@127.0.0.1:{self.lab.amqp_proxy.port}/{self.vhost}"
        assert single in text, "Run.conductor_conf changed its transport_url"
        text = text.replace(single, self._url([n.port for n in self.conductor_nodes]))
        path.write_text(_quorum(text))
        return path

    def client_conf(self) -> Path:
        path = super().client_conf()
        text = path.read_text()
        single = f"rabbit://guest:guest@127.0.0.1:{self.lab.rabbit.port}/{self.vhost}"
        assert single in text, "Run.client_conf changed its transport_url"
        text = text.replace(single, self._url([n.port for n in self.client_nodes]))
        path.write_text(_quorum(text))
        return path

    def setup(self) -> None:
        self.cluster.ctl("add_vhost", self.vhost)
        self.cluster.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.conductor = Conductor(
            self.kind, self.conductor_conf(), self.dir / "conductor.log", self.workers
        )

    def queue(self, name: str) -> tuple[int, int, int]:
        return self.cluster.queues(self.vhost).get(name, (0, 0, 0))

    def teardown(self) -> None:
        if self.conductor is not None:
            self.conductor.stop()
        self.cluster.ctl_ok("delete_vhost", self.vhost)


def _quorum(conf: str) -> str:
    section = "[oslo_messaging_rabbit]\n"
    if section not in conf:
        return conf + f"{section}rabbit_quorum_queue = true\n"
    return conf.replace(section, f"{section}rabbit_quorum_queue = true\n", 1)


class ConsumerWatch:
    """Samples the `conductor` queue's consumers and leader once a second from another
    thread while the fault runs: when the conductor consumed again, and from which leader."""

    def __init__(self, run: ClusterRun) -> None:
        self.run = run
        self.samples: list[tuple[float, int, str]] = []  # (time.time(), consumers, leader)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ConsumerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(70)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                consumers, leader = self.run.cluster.queue_info(
                    self.run.vhost, QUEUE, "consumers", "leader"
                )
                self.samples.append((time.time(), int(consumers), leader))
            except (RuntimeError, LookupError, ValueError):
                self.samples.append((time.time(), -1, "?"))
            self._stop.wait(1)

    def summary(self, since: float) -> str:
        """From `since`: seconds the queue showed no consumer, seconds no node could list it
        (a quorum queue electing a leader may not answer), and when a consumer was back."""
        after = [s for s in self.samples if s[0] >= since]
        none = unreadable = 0.0
        back: float | None = None
        for (at, consumers, _), (next_at, _, _) in itertools.pairwise(after):
            if consumers == 0:
                none += next_at - at
            elif consumers < 0:
                unreadable += next_at - at
            elif back is None and (none or unreadable):
                back = at - since
        shown = "never lost" if back is None else f"consuming again {back:.1f} s after the stop"
        return f"no consumer {none:.1f} s, queue unreadable {unreadable:.1f} s, {shown}"


def stop_leader_under_load(
    lab: Lab,
    kind: str,
    *,
    seconds: float = 45,
    fault_after: float = 8,
    down_for: float = 15,
    rate: float = 20,
    settle: float = 2 * HEARTBEAT_THRESHOLD,
    crash: bool = False,
    on_follower: bool = False,
) -> Outcome:
    """nova's client at `rate` calls/s for `seconds`; `fault_after` s in, the node leading the
    `conductor` quorum queue stops its app for `down_for` s and starts it again (with
    `crash`, its VM is killed with SIGKILL and booted again). The conductor is connected to
    the leader when RabbitMQ puts a new quorum queue's leader on the declaring client's node
    (its default); with `on_follower` the conductor is restarted with a transport_url naming
    the two other nodes: its link survives, the leader moves under it."""
    cluster = RabbitCluster(lab.base / "clusters" / f"{kind}-{uuid.uuid4().hex[:6]}")
    cluster.start()
    lab.timings.update(cluster.timings)
    name = "quorum-leader" + ("-killed" if crash else "") + ("-follower" if on_follower else "")
    run = ClusterRun(lab, kind, name, cluster)
    notes = [f"cluster boot {cluster.boot_seconds:.1f} s"]
    try:
        run.setup()
        with ExitStack() as stack:
            ready = stack.enter_context(ReadyzWatcher(run.metrics_port))
            run.start_conductor()
            if on_follower:
                # the leader is usually the declaring node, not always (a busy machine's
                # election): the conductor comes back naming only the nodes that do not lead
                assert run.conductor is not None
                run.conductor.stop()
                first_leader = cluster.leader(run.vhost, QUEUE)
                run.conductor_nodes = [n for n in cluster.nodes if n.node != first_leader]
                run.conductor_conf()  # the Conductor reads this file at its next start
                run.start_conductor()
            queue_type, durable = cluster.queue_info(run.vhost, QUEUE, "type", "durable")
            notes.append(f"conductor queue: type {queue_type}, durable {durable}")
            leader = cluster.leader(run.vhost, QUEUE)
            # the caller's link must outlive the fault: it names only the other nodes
            run.client_nodes = [n for n in cluster.nodes if n.node != leader]
            notes.append(f"conductor consumed via {_consumer_nodes(run)}; leader {leader}")
            load = run.nova({"mode": "load", "rate": rate, "seconds": seconds})
            run.wait_started(load)
            watch = stack.enter_context(ConsumerWatch(run))
            time.sleep(fault_after)
            fault_at = time.time()
            stopped = cluster.node(leader)
            if crash:
                stopped.kill()
            else:
                stopped.stop_app()
            stopped_in = time.time() - fault_at
            time.sleep(down_for)
            new_leader = cluster.leader(run.vhost, QUEUE)
            restarting = time.time()
            if crash:
                stopped.start()
            else:
                stopped.start_app()
            how = ("kill -9", "boot") if crash else ("stop_app", "start_app")
            notes.append(
                f"{how[0]} took {stopped_in:.1f} s; leader while down {new_leader}; "
                f"{how[1]} took {time.time() - restarting:.1f} s"
            )
            calls = run.finish(load, timeout=seconds + 5 * RESPONSE_TIMEOUT + 120)["calls"]
            broker_end = run.settle(settle)
            notes.append(
                f"{watch.summary(fault_at)}; once back the leader is "
                f"{cluster.leader(run.vhost, QUEUE)}, online members {_online_members(run)}"
            )
        outcome = audit_calls(run, calls, fault_at, ready.samples if kind == "aioconductor" else [])
        outcome.broker_end = broker_end
        outcome.notes += notes
        return outcome
    finally:
        try:
            run.teardown()
        finally:
            cluster.stop()


def _consumer_nodes(run: ClusterRun) -> str:
    """The nodes of the channels consuming `conductor` (the pid names the node)."""
    out = run.cluster.ctl(
        "list_consumers", "-p", run.vhost, "--no-table-headers", "queue_name", "channel_pid"
    )
    nodes = {
        line.split()[1].strip("<>").rsplit(".", 3)[0]
        for line in out.splitlines()
        if line.split() and line.split()[0] == QUEUE
    }
    return ", ".join(sorted(nodes)) or "nothing"


def _online_members(run: ClusterRun) -> str:
    try:
        return run.cluster.queue_info(run.vhost, QUEUE, "online")[0]
    except (RuntimeError, LookupError, IndexError):
        return "?"
