#!/bin/bash
# aioconductor alone, nova-conductor threading and nova-conductor eventlet+mysqlclient, each
# stack in turn, the order reversed between the two batch sizes; load average before each.
OUT=/work/wt-bench2/docs/bench-results/2026-12-06-e2e-eventlet
cd /work/wt-bench2
echo "p10 $(date +%T) $(uptime)" | tee -a $OUT/load.txt
scripts/e2e-tier --mode alone --mode nova --mode nova-eventlet --sequential 3 --parallel 10 \
  --computes 2 --compare-notifications --keep /tmp/aioc-e2e-p10 --json $OUT/p10.json > $OUT/p10-summary.txt 2>&1
echo "p40 $(date +%T) $(uptime)" | tee -a $OUT/load.txt
scripts/e2e-tier --mode nova-eventlet --mode nova --mode alone --sequential 1 --parallel 40 \
  --computes 2 --no-reboot --compare-notifications --keep /tmp/aioc-e2e-p40 --json $OUT/p40.json > $OUT/p40-summary.txt 2>&1
echo "done $(date +%T) $(uptime)" | tee -a $OUT/load.txt
