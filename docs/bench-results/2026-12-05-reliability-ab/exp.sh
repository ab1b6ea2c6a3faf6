#!/bin/bash
cd /work/main
for round in 1 2 3; do
  for side in exp main; do
    if [ $side = exp ]; then SRC=/work/wt-exp/src; else SRC=/work/main/src; fi
    echo "=== round $round $side $(date +%T)"
    PYTHONPATH=$SRC .venv/bin/aioconductor bench --loadgen-procs 2 --targets aioconductor-1w \
      --workloads bootstorm --concurrency 10,40 --duration 10 --out /tmp/ab/x$round-$side 2>&1 | grep "^\[bench.*N="
  done
done
