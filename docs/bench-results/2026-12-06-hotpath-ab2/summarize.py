import json, sys, pathlib, statistics
base = pathlib.Path(sys.argv[1])
rows = {}
print("| run | load (1 min) | N | rpc/s | target CPU ms/RPC | MariaDB | RabbitMQ | target/broker | idle % | steal % |")
print("|---|---|---|---|---|---|---|---|---|---|")
loads = {}
for line in (base / "load.txt").read_text().splitlines():
    name = line.split()[0]
    loads[name] = line.split("load average:")[1].split(",")[0].strip()
for d in sorted(base.glob("r*-*"), key=lambda p: (int(p.name[1:].split("-")[0]), p.name)):
    f = d / "results.json"
    if not f.exists(): continue
    for r in json.loads(f.read_text())["results"]:
        side = d.name.split("-", 1)[1]
        rows.setdefault((side, r["concurrency"]), []).append(r)
        print(f"| {d.name} | {loads.get(d.name,'')} | {r['concurrency']} | {r['rpc_per_s']} | {r['target_cpu_ms_per_rpc']} | {r['database_cpu_ms_per_rpc']} | {r['broker_cpu_ms_per_rpc']} | {r['target_cpu_ms_per_rpc']/r['broker_cpu_ms_per_rpc']:.2f} | {r['host_idle_pct']} | {r['host_steal_pct']} |")
print()
print("| side | N | runs | target CPU median (min-max) | target/broker median (min-max) | MariaDB median |")
print("|---|---|---|---|---|---|")
for (side, n), rs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    t = [r['target_cpu_ms_per_rpc'] for r in rs]
    q = [r['target_cpu_ms_per_rpc']/r['broker_cpu_ms_per_rpc'] for r in rs]
    db = [r['database_cpu_ms_per_rpc'] for r in rs]
    print(f"| {side} | {n} | {len(rs)} | {statistics.median(t):.3f} ({min(t):.3f}-{max(t):.3f}) | {statistics.median(q):.2f} ({min(q):.2f}-{max(q):.2f}) | {statistics.median(db):.3f} |")
