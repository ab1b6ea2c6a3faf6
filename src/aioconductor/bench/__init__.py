"""The benchmark harness: the same workload against aioconductor and nova-conductor."""
