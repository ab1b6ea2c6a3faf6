#!/bin/bash
# A/B of the hot path: 3332865 (before issue 24's fixes) against main, alternating.
cd /work/main
NEW=$(git rev-parse --short HEAD)
for round in 3 4 5; do
  for side in old new; do
    if [ $side = old ]; then SRC=/work/wt-old/src; else SRC=/work/main/src; fi
    echo "=== round $round $side $(date +%T)"
    PYTHONPATH=$SRC .venv/bin/aioconductor bench --loadgen-procs 2 --targets aioconductor-1w \
      --workloads bootstorm,ping --concurrency 10,40 --duration 10 --out /tmp/ab/r$round-$side 2>&1 | tail -12
  done
done
echo "=== done $(date +%T) new=$NEW"
