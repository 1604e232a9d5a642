"""`client.fan_out` against bare aiohttp + `asyncio.Semaphore` and the official `fastly` client.

    python benchmarks/bench_fanout.py            # full run, about 7 minutes on 2 cores
    python benchmarks/bench_fanout.py --quick    # smoke run, under a minute

A tiny aiohttp server runs in a separate process (so its CPU is not counted) and answers
pool updates and reads in the API's wire shape after an added latency (50 ms for the
throughput runs, none for the memory run). It records how many requests, and how many
writes per service, it had in flight at once. Three measurements, printed as Markdown:

1. 1000 updates over 1000 services at concurrency 1 (100 updates: 1000 would take 50 s a
   run), 16, 64 and 256: wall time and client CPU per request for `fan_out`, bare aiohttp
   and, if installed, the official `fastly` client on that many threads. Medians of runs
   that alternate the order. Targets (reported, never asserted): `fan_out` within 1.15x of
   bare aiohttp's wall time, and at least 20x the official client's throughput at 64.
2. The same 1000 updates over only 10 services at concurrency 64: the server's count of
   writes in flight per service, and what one-write-per-service costs in wall time.
3. 100,000 reads streamed from a generator through `async for` at concurrency 256 with
   `keep_succeeded=False`, in a fresh process: peak RSS over the RSS before the run
   (target: within 60 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import fastly_pools
from fastly_pools import OutcomeState

TOKEN = "bench-token"
HEADERS = {"Fastly-Key": TOKEN, "Accept": "application/json"}
FORM = {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
LATENCY = 0.05


# -- the server process ---------------------------------------------------------------------


def wire_pool(service_id: str, name: str, quorum: str) -> bytes:
    """A pool as the API sends it: numbers and flags as strings, nulls, `Z` timestamps."""
    return json.dumps(
        {
            "id": "BenchPoolId0000000001", "service_id": service_id, "version": "1",
            "name": name, "comment": "", "type": "random", "quorum": quorum, "use_tls": "0",
            "tls_check_cert": "1", "tls_ca_cert": None, "tls_client_cert": None,
            "tls_client_key": None, "tls_cert_hostname": None, "tls_sni_hostname": None,
            "tls_ciphers": None, "min_tls_version": None, "max_tls_version": None,
            "healthcheck": None, "shield": None, "request_condition": None,
            "override_host": None, "connect_timeout": "1000", "first_byte_timeout": "15000",
            "between_bytes_timeout": "10000", "max_conn_default": "200",
            "created_at": "2024-03-01T10:00:00Z", "updated_at": "2024-03-01T10:00:00Z",
            "deleted_at": None,
        },
        separators=(",", ":"),
    ).encode()  # fmt: skip


def serve(conn: Connection) -> None:
    """Answer until terminated; the port goes back through `conn`."""
    from aiohttp import web

    state: dict[str, Any] = {"latency": LATENCY}
    stats = {"requests": 0, "in_flight": 0, "max_in_flight": 0, "max_writes_per_service": 0}
    writes: dict[str, int] = {}
    reset = str((int(time.time()) // 3600 + 1) * 3600)

    async def pool(request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        write = request.method != "GET"
        stats["requests"] += 1
        stats["in_flight"] += 1
        stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
        if write:
            writes[sid] = writes.get(sid, 0) + 1
            stats["max_writes_per_service"] = max(stats["max_writes_per_service"], writes[sid])
        try:
            quorum = "50"
            if write:
                form = await request.post()
                quorum = str(form.get("quorum", "50"))
            if state["latency"]:
                await asyncio.sleep(state["latency"])
            headers = {"Content-Type": "application/json"}
            if write:
                # A budget far from exhausted, as on a normal account.
                headers["Fastly-RateLimit-Remaining"] = "900000"
                headers["Fastly-RateLimit-Reset"] = reset
            body = wire_pool(sid, request.match_info["name"], quorum)
            return web.Response(body=body, headers=headers)
        finally:
            stats["in_flight"] -= 1
            if write:
                writes[sid] -= 1
                if not writes[sid]:
                    del writes[sid]

    async def control(request: web.Request) -> web.Response:
        if request.method == "POST":
            latency = request.query.get("latency")
            if latency is not None:
                state["latency"] = float(latency)
            stats.update(requests=0, max_in_flight=0, max_writes_per_service=0)
        return web.json_response(stats)

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/service/{sid}/version/{v}/pool/{name}", pool)
        app.router.add_route("*", "/_bench", control)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def control(base: str, **query: float) -> dict[str, int]:
    """Read (or, with `latency=`, reset and reconfigure) the server's counters."""
    from urllib.request import Request, urlopen

    params = "&".join(f"{k}={v}" for k, v in query.items())
    request = Request(f"{base}/_bench?{params}", method="POST" if query else "GET")
    with urlopen(request, data=b"" if query else None) as answer:
        return dict(json.loads(answer.read()))


# -- the three clients ----------------------------------------------------------------------


Items = list[tuple[str, int]]


async def with_fan_out(base: str, items: Items, concurrency: int) -> None:
    async with fastly_pools.Client(TOKEN, base_url=base, connection_limit=concurrency) as client:
        ops = (client.pools.update(sid, 1, "origin").quorum(q) for sid, q in items)
        run = client.fan_out(ops, concurrency=concurrency, keep_succeeded=False)
        report = await run.run()
    assert report.counts[OutcomeState.SUCCEEDED] == len(items), report.counts


async def with_bare_aiohttp(base: str, items: Items, concurrency: int) -> None:
    slots = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(sid: str, quorum: int) -> None:
            async with slots:
                url = f"{base}/service/{sid}/version/1/pool/origin"
                async with session.put(url, data=f"quorum={quorum}", headers=FORM) as resp:
                    resp.raise_for_status()
                    await resp.json()

        await asyncio.gather(*(one(sid, q) for sid, q in items))


async def with_gather(base: str, items: Items, concurrency: int) -> None:
    """fastly_pools builders under a bare Semaphore: the client without fan_out's engine."""
    slots = asyncio.Semaphore(concurrency)
    async with fastly_pools.Client(TOKEN, base_url=base, connection_limit=concurrency) as client:

        async def one(sid: str, quorum: int) -> None:
            async with slots:
                await client.pools.update(sid, 1, "origin").quorum(quorum).execute()

        await asyncio.gather(*(one(sid, q) for sid, q in items))


def with_official(base: str, items: Items, concurrency: int) -> None:
    import fastly
    from fastly.api.pool_api import PoolApi

    conf = fastly.Configuration(host=base)
    conf.api_token = TOKEN
    conf.connection_pool_maxsize = concurrency
    with fastly.ApiClient(conf) as api_client:
        api = PoolApi(api_client)
        with ThreadPoolExecutor(concurrency) as threads:
            for _ in threads.map(
                lambda item: api.update_server_pool(item[0], 1, "origin", quorum=item[1]), items
            ):
                pass


def official_installed() -> bool:
    try:
        import fastly  # noqa: F401
    except ImportError:
        return False
    return True


def measure(call: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, client CPU seconds) of one call; a coroutine runs in a fresh loop."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    if inspect.iscoroutine(result):
        asyncio.run(result)
    return time.perf_counter() - wall, time.process_time() - cpu


def updates(services: int, count: int) -> Items:
    return [(f"BenchService{i % services:010d}", i % 100) for i in range(count)]


# -- the measurements -----------------------------------------------------------------------


def table(*rows: str) -> None:
    print("\n".join(rows), flush=True)


def throughput(base: str, sizes: dict[int, int], runs: int, official: bool) -> None:
    names = ["fan_out", "aiohttp"] + (["official"] if official else [])
    table(
        "| concurrency | updates | fan_out wall s | bare aiohttp wall s | official wall s "
        "| fan_out / aiohttp wall | per run (min-max) | fan_out vs official throughput "
        "| fan_out CPU µs/req | aiohttp CPU µs/req | official CPU µs/req |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    )
    for concurrency, count in sizes.items():
        items = updates(1000, count)
        walls: dict[str, list[float]] = {n: [] for n in names}
        cpus: dict[str, list[float]] = {n: [] for n in names}
        calls: dict[str, Callable[[], Any]] = {
            "fan_out": partial(with_fan_out, base, items, concurrency),
            "aiohttp": partial(with_bare_aiohttp, base, items, concurrency),
            "official": partial(with_official, base, items, concurrency),
        }
        for run in range(runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                wall, cpu = measure(calls[name])
                walls[name].append(wall)
                cpus[name].append(cpu)
        med = {n: statistics.median(walls[n]) for n in names}
        cpu = {n: statistics.median(cpus[n]) / count * 1e6 for n in names}
        off_wall = f"{med['official']:.2f}" if official else "n/a"
        off_ratio = f"{med['official'] / med['fan_out']:.1f}x" if official else "n/a"
        off_cpu = f"{cpu['official']:.0f}" if official else "n/a"
        ratios = [f / a for f, a in zip(walls["fan_out"], walls["aiohttp"], strict=True)]
        table(
            f"| {concurrency} | {count} | {med['fan_out']:.2f} | {med['aiohttp']:.2f} | "
            f"{off_wall} | {med['fan_out'] / med['aiohttp']:.2f}x | "
            f"{min(ratios):.2f}-{max(ratios):.2f}x | {off_ratio} | "
            f"{cpu['fan_out']:.0f} | {cpu['aiohttp']:.0f} | {off_cpu} |"
        )


def breakdown(base: str, count: int, runs: int) -> None:
    """Where fan_out's extra time goes at concurrency 256: the client or the engine."""
    items = updates(1000, count)
    calls = {
        "bare aiohttp + Semaphore": partial(with_bare_aiohttp, base, items, 256),
        "fastly_pools builders + Semaphore (no fan_out)": partial(with_gather, base, items, 256),
        "fastly_pools fan_out": partial(with_fan_out, base, items, 256),
    }
    walls: dict[str, list[float]] = {name: [] for name in calls}
    cpus: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for run in range(runs):
        for name in names[run % 3 :] + names[: run % 3]:
            wall, cpu = measure(calls[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
    table(
        f"| {count} updates at concurrency 256 | wall s (median) | CPU µs/req (median) |",
        "|---|---:|---:|",
    )
    for name in names:
        wall = statistics.median(walls[name])
        cpu = statistics.median(cpus[name]) / count * 1e6
        table(f"| {name} | {wall:.2f} | {cpu:.0f} |")


def few_services(base: str, count: int, runs: int) -> None:
    items = updates(10, count)
    table(
        "| client (concurrency 64) | updates over 10 services | wall s (median) "
        "| most writes in flight for one service | most requests in flight |",
        "|---|---:|---:|---:|---:|",
    )
    for name, call in [
        ("fan_out", lambda: with_fan_out(base, items, 64)),
        ("bare aiohttp + Semaphore", lambda: with_bare_aiohttp(base, items, 64)),
    ]:
        walls, per_service, overall = [], 0, 0
        for _ in range(runs):
            control(base, latency=LATENCY)  # resets the counters
            walls.append(measure(call)[0])
            stats = control(base)
            per_service = max(per_service, stats["max_writes_per_service"])
            overall = max(overall, stats["max_in_flight"])
        table(
            f"| {name} | {count} | {statistics.median(walls):.2f} | {per_service} | {overall} |"
        )


def memory_child(base: str, count: int, conn: Connection) -> None:
    """In a fresh process: stream `count` reads through fan_out and report RSS."""

    def restart_peak() -> None:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # VmHWM (the peak) starts again from the current RSS

    def rss(field: str) -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    async def main() -> dict[str, float]:
        async with fastly_pools.Client(TOKEN, base_url=base, connection_limit=256) as client:

            def reads(n: int) -> Iterator[fastly_pools.GetPool]:
                for i in range(n):
                    yield client.pools.get(f"BenchService{i % 1000:010d}", 1, "origin")

            async def stream(n: int) -> int:
                done = 0
                run = client.fan_out(reads(n), concurrency=256, keep_succeeded=False)
                async for outcome in run:
                    done += outcome.state is OutcomeState.SUCCEEDED
                return done

            await stream(2000)  # warm up: connections open, code paths loaded
            gc.collect()
            before = rss("VmRSS")
            peak = before
            restart_peak()
            stop = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not stop.wait(0.01):
                    peak = max(peak, rss("VmRSS"))

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            done = await stream(count)
            wall = time.perf_counter() - started
            stop.set()
            sampler.join()
            peak = max(peak, rss("VmHWM"))
            return {"before": before, "peak": peak, "wall": wall, "succeeded": done}

    conn.send(asyncio.run(main()))


def memory(base: str, count: int) -> None:
    control(base, latency=0)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=memory_child, args=(base, count, child))
    proc.start()
    result = parent.recv()
    proc.join()
    control(base, latency=LATENCY)
    mb = 1024 * 1024
    table(
        "| reads streamed (concurrency 256) | succeeded | wall s | reads/s | RSS before MB "
        "| peak RSS MB | peak - before MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {count} | {int(result['succeeded'])} | {result['wall']:.1f} | "
        f"{count / result['wall']:.0f} | {result['before'] / mb:.1f} | "
        f"{result['peak'] / mb:.1f} | {(result['peak'] - result['before']) / mb:.1f} |",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, under a minute")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 5, quick 1)")
    parser.add_argument("--no-official", action="store_true", help="skip the fastly client")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    sizes = {1: 20, 16: 200, 64: 200, 256: 200} if args.quick else {
        1: 100, 16: 1000, 64: 1000, 256: 1000,
    }  # fmt: skip
    official = official_installed() and not args.no_official

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{parent.recv()}"
    try:
        print(
            f"# {platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, aiohttp {aiohttp.__version__}, fastly_pools "
            f"{fastly_pools.__version__}, official client: "
            f"{'installed' if official else 'not installed'}; {runs} run(s) per cell\n"
        )
        # Warm up each client once (imports, first connections).
        warm = updates(10, 20)
        measure(lambda: with_fan_out(base, warm, 8))
        measure(lambda: with_bare_aiohttp(base, warm, 8))
        if official:
            measure(lambda: with_official(base, warm, 8))
        throughput(base, sizes, runs, official)
        print()
        breakdown(base, sizes[256], runs)
        print()
        few_services(base, 200 if args.quick else 1000, runs)
        print()
        memory(base, 10_000 if args.quick else 100_000)
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
