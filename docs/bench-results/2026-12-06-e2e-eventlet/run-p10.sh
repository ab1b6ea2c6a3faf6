#!/bin/bash
# The 10-at-once batch again (its first try stopped at POST /flavors: 501 from another
# process that had taken nova-api's port; see p10-failed-port-race.txt).
OUT=/work/wt-bench2/docs/bench-results/2026-12-06-e2e-eventlet
cd /work/wt-bench2
echo "p10 $(date +%T) $(uptime)" | tee -a $OUT/load.txt
scripts/e2e-tier --mode alone --mode nova --mode nova-eventlet --sequential 3 --parallel 10 \
  --computes 2 --compare-notifications --keep /tmp/aioc-e2e-p10b --json $OUT/p10.json > $OUT/p10-summary.txt 2>&1
echo "done $(date +%T) $(uptime)" | tee -a $OUT/load.txt
