"""Calls per RPC of the boot-storm target, old against new, from cProfile dumps.

    python profdiff.py <dir> [N]     # <dir>/{old,new}/worker.prof.gz and results.json

A worker's whole life is profiled (start-up included, spread over the level's RPCs); the
per-function counts on the hot path are what compare. N: how many of the largest
differences to list."""

import gzip
import json
import marshal
import pathlib
import pstats
import sys

base = pathlib.Path(sys.argv[1])
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
OTHERS = ("sqlalchemy", "uvloop", "asyncmy", "pamqp", "pydantic", "prometheus_client")


def load(side):
    d = base / side
    stats = pstats.Stats()
    stats.stats = marshal.loads(gzip.decompress((d / "worker.prof.gz").read_bytes()))
    rpcs = sum(r["calls"] for r in json.loads((d / "results.json").read_text())["results"])
    return stats.stats, rpcs


def key(k):
    f, _, name = k
    if "/src/aioconductor/" in f:
        return "aioconductor/" + f.split("/src/aioconductor/")[-1] + ":" + name
    return f.split("site-packages/")[-1] + ":" + name


agg = {}
for side in ("old", "new"):
    st, rpcs = load(side)
    calls = sum(v[1] for v in st.values())
    own = sum(v[2] for v in st.values())
    print(f"{side}: {rpcs} RPCs, {calls / rpcs:.1f} calls/RPC, profiled own time {1000 * own / rpcs:.3f} ms/RPC")
    for k, v in st.items():
        a = agg.setdefault(key(k), {"old": [0.0, 0.0], "new": [0.0, 0.0]})
        a[side][0] += v[1] / rpcs
        a[side][1] += 1000 * v[2] / rpcs
for side in ("old", "new"):
    ours = sum(a[side][0] for k, a in agg.items() if k.startswith("aioconductor/"))
    print(f"{side}: aioconductor's own functions {ours:.1f} calls/RPC")
print("largest differences in calls per RPC (old -> new):")
for k, a in sorted(agg.items(), key=lambda kv: -abs(kv[1]["new"][0] - kv[1]["old"][0]))[:top]:
    print(f"  {a['old'][0]:8.2f} -> {a['new'][0]:8.2f}   {k}")
print("aioconductor's Instance read and save helpers (calls per RPC, old -> new):")
for k, a in sorted(agg.items()):
    if k.startswith("aioconductor/objects/_instance_build") or "flavor" in k or "ordering" in k:
        if a["old"][0] > 0.001 or a["new"][0] > 0.001:
            print(f"  {a['old'][0]:8.3f} -> {a['new'][0]:8.3f}   {k}")
