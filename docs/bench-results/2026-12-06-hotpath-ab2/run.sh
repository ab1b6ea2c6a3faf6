#!/bin/bash
# Five alternating rounds of the boot storm, one worker: 3ffefea (/work/wt-old) against
# bench2 (= main at 32248da, /work/wt-bench2). The load average before each run is in load.txt.
# usage: run.sh <first round> <last round> <new tree tag>
OUT=/work/wt-bench2/docs/bench-results/2026-12-06-hotpath-ab2
NEWTAG=${3:-new}
cd /work/main
for round in $(seq $1 $2); do
  for side in old $NEWTAG; do
    if [ $side = old ]; then SRC=/work/wt-old/src; else SRC=/work/wt-bench2/src; fi
    echo "r$round-$side $(date +%T) $(git -C $SRC/.. rev-parse --short HEAD) $(uptime)" | tee -a $OUT/load.txt
    PYTHONPATH=$SRC .venv/bin/aioconductor bench --loadgen-procs 2 --targets aioconductor-1w \
      --workloads bootstorm --concurrency 10,40 --duration 8 --out $OUT/r$round-$side 2>&1 | grep "^\[bench.*N="
  done
done
echo "done $(date +%T)"
