"""A TCP relay that delays every chunk by a fixed time each way: a database "on another host".

This kernel has no netem, so the harness puts this relay, in its own process, between a
target and MariaDB. Each chunk read is forwarded `delay` seconds after it arrived, in order,
so a round trip costs 2 x delay more and throughput is not capped. At 0 ms it forwards at
once: runs through it at 0 ms are the control for the delayed ones. Its CPU is measured by
the harness (it is a process of its own).

    python -m aioconductor.bench.relay --upstream 127.0.0.1:3306 --delay-ms 1
prints `listening <port>` and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

_CHUNK = 1 << 16


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while data := await reader.read(_CHUNK):
            if delay:
                queue.put_nowait((time.monotonic() + delay, data))
            else:
                writer.write(data)
                await writer.drain()
    except ConnectionError:
        pass
    finally:
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(ConnectionError):
            await sender
        with contextlib.suppress(Exception):
            writer.close()


async def serve(upstream: tuple[str, int], delay: float, port: int = 0) -> asyncio.Server:
    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pump(client_r, server_w, delay), _pump(server_r, client_w, delay))

    return await asyncio.start_server(relay, "127.0.0.1", port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aioconductor.bench.relay")
    parser.add_argument("--upstream", default="127.0.0.1:3306")
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")

    async def run() -> None:
        server = await serve((host, int(port)), args.delay_ms / 1000, args.port)
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
