#!/bin/bash
# Second round, each batch size with the mode order reversed against the first.
OUT=/work/wt-bench2/docs/bench-results/2026-12-06-e2e-eventlet
cd /work/wt-bench2
echo "p10-r2 $(date +%T) $(uptime)" | tee -a $OUT/load.txt
scripts/e2e-tier --mode nova-eventlet --mode nova --mode alone --sequential 3 --parallel 10 \
  --computes 2 --compare-notifications --keep /tmp/aioc-e2e-p10-r2 --json $OUT/p10-r2.json > $OUT/p10-r2-summary.txt 2>&1
echo "p40-r2 $(date +%T) $(uptime)" | tee -a $OUT/load.txt
scripts/e2e-tier --mode alone --mode nova --mode nova-eventlet --sequential 1 --parallel 40 \
  --computes 2 --no-reboot --compare-notifications --keep /tmp/aioc-e2e-p40-r2 --json $OUT/p40-r2.json > $OUT/p40-r2-summary.txt 2>&1
echo "done $(date +%T) $(uptime)" | tee -a $OUT/load.txt
