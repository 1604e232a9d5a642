"""Client CPU per call: fastly_pools against bare aiohttp doing the same request and `json()`.

    python benchmarks/bench_client.py [--quick] [--profile]

A tiny aiohttp server runs in a separate process (so its CPU is not counted) and answers
one pool, and a list of 200 pools, in the API's real wire shape (numbers as strings, nulls).
In this process, `time.process_time()` is taken around (a) sequential GETs of one pool and
(b) sequential LISTs of a 200-pool version, once through `fastly_pools` and once through one
bare `aiohttp.ClientSession` + `await resp.json()`. After a warm-up, each measurement is
repeated, alternating which side goes first; the medians and their ratio are printed as a
Markdown table. Targets (reported, never asserted): GET <= 1.3x, LIST <= 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import multiprocessing
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import fastly_pools

SERVICE = "BenchServiceId00000001"
VERSION = 3
NAME = "origin_0"
TOKEN = "bench-token"
LIST_SIZE = 200


def wire_pool(i: int) -> dict[str, Any]:
    """One pool object shaped like a real 2022 answer: 28 keys, numbers as strings, nulls."""
    return {
        "id": f"BenchPoolId{i:011d}", "service_id": SERVICE, "version": str(VERSION),
        "name": f"origin_{i}", "comment": f"pool {i}", "type": "random", "quorum": "50",
        "use_tls": "1", "tls_check_cert": "1", "tls_ca_cert": None, "tls_client_cert": None,
        "tls_client_key": None, "tls_cert_hostname": "origin.example", "tls_sni_hostname": None,
        "tls_ciphers": None, "min_tls_version": None, "max_tls_version": None,
        "healthcheck": None, "shield": None, "request_condition": None, "override_host": None,
        "connect_timeout": "1000", "first_byte_timeout": "15000",
        "between_bytes_timeout": "10000", "max_conn_default": "200",
        "created_at": "2024-03-01T10:00:00Z", "updated_at": "2024-03-01T10:00:00Z",
        "deleted_at": None,
    }  # fmt: skip


# -- the server process -------------------------------------------------------------------------


def serve(conn: Connection) -> None:
    """Run the answering server until terminated; send its port through `conn`."""
    from aiohttp import web

    one = json.dumps(wire_pool(0), separators=(",", ":")).encode()
    many = json.dumps([wire_pool(i) for i in range(LIST_SIZE)], separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}

    async def get_one(request: web.Request) -> web.Response:
        return web.Response(body=one, headers=headers)

    async def get_list(request: web.Request) -> web.Response:
        return web.Response(body=many, headers=headers)

    async def main() -> None:
        app = web.Application()
        app.router.add_get(f"/service/{SERVICE}/version/{VERSION}/pool", get_list)
        app.router.add_get(f"/service/{SERVICE}/version/{VERSION}/pool/{{name}}", get_one)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the measured loops -------------------------------------------------------------------------

Loop = Callable[[int], Awaitable[None]]


def bare_loops(session: aiohttp.ClientSession, base: str) -> tuple[Loop, Loop]:
    headers = {
        "Fastly-Key": TOKEN,
        "Accept": "application/json",
        "User-Agent": "bench",
    }
    one_url = f"{base}/service/{SERVICE}/version/{VERSION}/pool/{NAME}"
    list_url = f"{base}/service/{SERVICE}/version/{VERSION}/pool"

    async def gets(n: int) -> None:
        for _ in range(n):
            async with session.get(one_url, headers=headers) as resp:
                data = await resp.json()
            assert data["name"] == NAME

    async def lists(n: int) -> None:
        for _ in range(n):
            async with session.get(list_url, headers=headers) as resp:
                data = await resp.json()
            assert len(data) == LIST_SIZE

    return gets, lists


def sdk_loops(client: fastly_pools.Client) -> tuple[Loop, Loop]:
    pools = client.pools

    async def gets(n: int) -> None:
        for _ in range(n):
            # A fresh builder per call, as application code writes it.
            pool = await pools.get(SERVICE, VERSION, NAME).execute()
            assert pool.quorum == 50

    async def lists(n: int) -> None:
        for _ in range(n):
            result = await pools.list(SERVICE, VERSION).execute()
            assert len(result) == LIST_SIZE

    return gets, lists


async def cpu_per_call(loop: Loop, n: int) -> float:
    """Client-process CPU seconds per call over `n` sequential calls."""
    gc.collect()
    start = time.process_time()
    await loop(n)
    return (time.process_time() - start) / n


Runs = dict[str, dict[str, list[float]]]  # case -> side -> CPU seconds per call, per run


async def measure(base: str, gets: int, lists: int, repeats: int) -> Runs:
    results: Runs = {
        "GET": {"bare": [], "sdk": []},
        "LIST": {"bare": [], "sdk": []},
    }
    async with (
        aiohttp.ClientSession() as session,
        fastly_pools.Client(TOKEN, base_url=base) as client,
    ):
        bare_get, bare_list = bare_loops(session, base)
        sdk_get, sdk_list = sdk_loops(client)
        # Warm-up: connections open, code paths and caches hot.
        for warm in (bare_get, sdk_get):
            await warm(max(gets // 10, 20))
        for warm in (bare_list, sdk_list):
            await warm(max(lists // 10, 5))
        for rep in range(repeats):
            order = [("bare", bare_get, bare_list), ("sdk", sdk_get, sdk_list)]
            if rep % 2:
                order.reverse()
            for side, get_loop, _ in order:
                results["GET"][side].append(await cpu_per_call(get_loop, gets))
            for side, _, list_loop in order:
                results["LIST"][side].append(await cpu_per_call(list_loop, lists))
    return results


async def profile_sdk_gets(base: str, n: int) -> None:
    async with fastly_pools.Client(TOKEN, base_url=base) as client:
        gets, _ = sdk_loops(client)
        await gets(50)
        profiler = cProfile.Profile()
        profiler.enable()
        await gets(n)
        profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
    print(f"\n### cProfile: {n} fastly_pools GETs, top functions by own time\n\n```")
    stats.print_stats(25)
    print("```")


def table(runs: Runs, gets: int, lists: int, repeats: int) -> str:
    targets = {"GET": 1.3, "LIST": 2.0}
    labels = {"GET": f"{gets} sequential GETs of one pool",
              "LIST": f"{lists} LISTs of a {LIST_SIZE}-pool version"}  # fmt: skip
    lines = [
        "| case | bare aiohttp, µs/call | fastly_pools, µs/call | ratio | "
        "ratio per run (min-max) | target | met |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for case, sides in runs.items():
        bare, sdk = statistics.median(sides["bare"]), statistics.median(sides["sdk"])
        ratio = sdk / bare
        paired = [s / b for s, b in zip(sides["sdk"], sides["bare"], strict=True)]
        met = "yes" if ratio <= targets[case] else "**no**"
        lines.append(
            f"| {labels[case]} | {bare * 1e6:.0f} | {sdk * 1e6:.0f} | {ratio:.2f}x "
            f"| {min(paired):.2f}-{max(paired):.2f}x | ≤ {targets[case]}x | {met} |"
        )
    lines.append("")
    lines.append(f"Medians of {repeats} alternating runs; client-process CPU (`process_time`).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    parser.add_argument("--profile", action="store_true", help="also cProfile the SDK GETs")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (>= 3)")
    args = parser.parse_args()
    gets, lists = (300, 30) if args.quick else (2000, 200)
    repeats = max(3, args.repeats)

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the benchmark server did not start within 30 s")
        base = f"http://127.0.0.1:{parent.recv()}"
        started = time.perf_counter()
        runs = asyncio.run(measure(base, gets, lists, repeats))
        elapsed = time.perf_counter() - started
        print(
            f"fastly_pools {fastly_pools.__version__}, aiohttp {aiohttp.__version__}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs; measured in {elapsed:.1f} s wall\n"
        )
        print(table(runs, gets, lists, repeats))
        if args.profile:
            asyncio.run(profile_sdk_gets(base, gets))
    finally:
        server.terminate()
        server.join(10)


if __name__ == "__main__":
    main()
