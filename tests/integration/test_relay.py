"""The delaying relay on real sockets: it adds the delay each way, keeps order, and at 0 ms
adds next to nothing; the harness's relay process reports a port and its CPU."""

from __future__ import annotations

import asyncio
import time

from aioconductor.bench.relay import serve
from aioconductor.bench.targets import Relay


async def _echo_server() -> asyncio.Server:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def _round_trips(port: int, count: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times = []
    for n in range(count):
        started = time.perf_counter()
        writer.write(f"ping {n}\n".encode())
        await writer.drain()
        assert await reader.readline() == f"ping {n}\n".encode()
        times.append(time.perf_counter() - started)
    writer.close()
    return times


async def test_delay_is_added_each_way_and_order_is_kept() -> None:
    echo = await _echo_server()
    upstream = ("127.0.0.1", echo.sockets[0].getsockname()[1])
    slow = await serve(upstream, 0.02)
    fast = await serve(upstream, 0.0)
    try:
        delayed = sorted(await _round_trips(slow.sockets[0].getsockname()[1], 5))
        direct = sorted(await _round_trips(fast.sockets[0].getsockname()[1], 20))
        assert 0.040 <= delayed[2] < 0.080  # 20 ms there, 20 ms back
        assert direct[10] < 0.010
        # a burst of chunks comes back whole and in order through the delay
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", slow.sockets[0].getsockname()[1]
        )
        burst = b"".join(f"{n:06d}".encode() for n in range(5000))
        writer.write(burst)
        await writer.drain()
        assert await reader.readexactly(len(burst)) == burst
        writer.close()
    finally:
        for server in (slow, fast, echo):
            server.close()


def test_relay_process_reports_its_port_and_cpu() -> None:
    relay = Relay(0.5)
    try:
        assert relay.port > 0
        assert relay.cpu_seconds() >= 0.0
        assert relay.proc.poll() is None
    finally:
        relay.stop()
    assert relay.proc.returncode is not None
