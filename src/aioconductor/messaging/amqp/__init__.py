"""A small AMQP 0-9-1 client for the conductor's consume-and-reply path.

aio-pika and aiormq cost a worker about 0.5 CPU-ms per RPC in per-frame reads, channel queues,
futures and a task per delivery (docs/benchmarks-history.md). This client parses frames
straight off the socket in `data_received`, hands a complete delivery to the server
synchronously, and writes each reply as one buffer.
"""
