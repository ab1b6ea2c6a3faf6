"""Per round, new minus old target CPU ms/RPC (rounds alternate old, new)."""
import json, pathlib, statistics, sys
base = pathlib.Path(sys.argv[1])
for n in (10, 40):
    diffs = []
    for r in range(1, 100):
        sides = {}
        for side in ("old", "new"):
            f = base / f"r{r}-{side}" / "results.json"
            if f.exists():
                sides[side] = {x["concurrency"]: x["target_cpu_ms_per_rpc"] for x in json.loads(f.read_text())["results"]}
        if len(sides) == 2:
            diffs.append(round(sides["new"][n] - sides["old"][n], 3))
    higher = sum(d > 0 for d in diffs)
    print(f"N={n}: new-old per round {diffs}; new higher in {higher} of {len(diffs)}; "
          f"median {statistics.median(diffs):+.3f}, mean {statistics.mean(diffs):+.3f}, sd {statistics.stdev(diffs):.3f}")
