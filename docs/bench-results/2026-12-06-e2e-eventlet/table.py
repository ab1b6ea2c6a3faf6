"""The tables of docs/e2e.md from the runs' --json reports: python table.py <json>..."""
import json, statistics, sys

print("| run | mode | one at a time, median (max) | batch: booted, median (max) | batch CPU s: conductor / nova-api / placement / MariaDB / computes / scheduler | idle s | batch s |")
print("|---|---|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    for mode, r in json.load(open(path)).items():
        seq = [s["boot_seconds"] for s in r["servers"] if s["name"].startswith("e2e-seq") and s["boot_seconds"] is not None]
        par = [s["boot_seconds"] for s in r["servers"] if s["name"].startswith("e2e-par") and s["boot_seconds"] is not None]
        n = sum(1 for s in r["servers"] if s["name"].startswith("e2e-par"))
        cpu = r.get("parallel_cpu_seconds", {})
        conductor = sum(v for k, v in cpu.items() if "conductor" in k)
        computes = sum(v for k, v in cpu.items() if k.startswith("nova-compute"))
        one = f"{statistics.median(seq):.2f} s ({max(seq):.2f})" if seq else "-"
        batch = f"{len(par)}/{n}, {statistics.median(par):.2f} s ({max(par):.2f})" if par else f"0/{n}"
        print(f"| {path.rsplit('/', 1)[-1]} | {mode} | {one} | {batch} | {conductor:.1f} / {cpu.get('nova-api', 0):.1f} / {cpu.get('placement', 0):.1f} / {cpu.get('mariadb', 0):.1f} / {computes:.1f} / {cpu.get('nova-scheduler', 0):.1f} | {cpu.get('idle', 0):.1f} | {r.get('parallel_seconds', 0):.1f} |")
