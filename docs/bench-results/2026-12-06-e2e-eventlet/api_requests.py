"""nova-api's requests by kind, from its request log: python api_requests.py <run dir>/<mode>/e2e-api/nova-api.log"""
import re
import sys

for path in sys.argv[1:]:
    tot: dict[str, tuple[int, float]] = {}
    for line in open(path):
        m = re.search(r'"(GET|POST|DELETE) /v2.1/(\w+)[^"]*" status: \d+ len: \d+ microversion: [\d.]+ time: ([\d.]+)', line)
        if m:
            c, t = tot.get(f"{m[1]} {m[2]}", (0, 0.0))
            tot[f"{m[1]} {m[2]}"] = (c + 1, t + float(m[3]))
    print(path)
    for k, (c, t) in sorted(tot.items(), key=lambda kv: -kv[1][1]):
        print(f"  {k}: {c} requests, {t:.1f} s of request time, {t / c * 1000:.0f} ms each")
