"""Load benchmark (not a test): `tariffstack serve` answering /api/rate at a fixed request rate.

Starts the real server (one uvicorn worker, engine in memory) on a loopback port, warms it with
every query once, then drives varied rate queries (product x origin x date) at --rate requests/s
for --duration seconds and prints one JSON object: p50/p90/p99/max latency, errors, achieved rate.

Load tool: wrk (apt install wrk) with a generated Lua script when available, paced per
connection with wrk's delay() hook; otherwise (or with --tool python) an open-loop asyncio + httpx
generator that sends each request at its scheduled time and measures latency from that time, so
a stalled server cannot hide its queueing (no coordinated omission).

Run: .venv/bin/python benchmarks/bench_load.py [--rate 200] [--duration 30] [--tool auto|wrk|python]
Target (issue 4): p99 <= 20 ms at 200 requests/s on 2 cores, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ORIGINS = ["CN", "HK", "VN", "DE", "FR", "IT", "GB", "CA", "MX", "JP", "KR", "IN", "BR", "TW",
           "TH", "MY", "ID", "CH", "AU", "TR", "ZA", "RU", "SG", "PH", "BD", "KH", "IL", "CL",
           "AR", "NG"]
CHAPTERS = ["03", "09", "22", "27", "29", "30", "39", "40", "44", "48", "61", "62", "64", "69",
            "72", "73", "76", "84", "85", "87", "88", "90", "94", "95"]
TARGET_P99_MS = 20.0


# ---- the server ---------------------------------------------------------------------------------

def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, int]:
    cmd = [sys.executable, "-m", "tariffstack.surfaces.cli"]
    if args.data_dir:
        cmd += ["--data-dir", str(args.data_dir)]
    if args.home:
        cmd += ["--home", str(args.home)]
    cmd += ["serve", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "tariffstack serving on http://127.0.0.1:PORT/ ..."
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
    url = next(w for w in line.split() if w.startswith("http://"))
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    return proc, url.rstrip("/"), port


def get_json(conn: http.client.HTTPConnection, path: str) -> tuple[int, Any]:
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, json.loads(body) if body else None


# ---- the queries --------------------------------------------------------------------------------

def make_queries(port: int, n: int, seed: int) -> tuple[list[str], int, float]:
    """n varied /api/rate paths answered 200 in warm-up (each asked once, which warms the server).

    Returns the paths, how many candidates were dropped (a code not in force on that date is a
    correct 404, not a server error) and the warm-up median latency in ms.
    """
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    _, health = get_json(conn, "/api/health")
    first = date.fromisoformat(health["coverage"]["first"])
    last = date.fromisoformat(health["coverage"]["last"])
    codes: list[str] = []
    for ch in CHAPTERS:
        _, got = get_json(conn, "/api/search?" + urlencode({"q": ch, "limit": 50}))
        codes += [h["hts"] for h in got["hits"]]
    span = (last - first).days
    dates = sorted({first + timedelta(days=rng.randrange(span + 1)) for _ in range(60)})
    paths: list[str] = []
    dropped = 0
    lat: list[float] = []
    tries = 0
    while len(paths) < n and tries < n * 3:
        tries += 1
        q = {"code": rng.choice(codes), "origin": rng.choice(ORIGINS),
             "date": rng.choice(dates).isoformat()}
        path = "/api/rate?" + urlencode(q)
        t0 = time.perf_counter()
        status, _ = get_json(conn, path)
        lat.append((time.perf_counter() - t0) * 1000)
        if status == 200:
            paths.append(path)
        else:
            dropped += 1
    conn.close()
    return paths, dropped, statistics.median(lat)


# ---- wrk ----------------------------------------------------------------------------------------

LUA = """
local paths = {%(paths)s}
local interval = %(interval)f
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) math.randomseed(tid * 7919) end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
function delay() return interval end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"mean_us":%%f,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def run_wrk(url: str, paths: list[str], rate: float, duration: int, conns: int,
            warm_ms: float) -> dict[str, Any]:
    """wrk paces each connection with delay(): conns / (interval + latency) = rate, so a short
    calibration run measures the latency under load and the interval is corrected by it."""
    cycle = 1000.0 * conns / rate
    interval = max(0.0, cycle - warm_ms)
    for _ in range(2):  # two short calibration runs converge to within about 1%
        trial = _wrk(url, paths, 3, conns, interval)
        measured = 1000.0 * conns * trial["duration_s"] / max(1, trial["requests"])
        interval = max(0.0, interval - (measured - cycle))
    return _wrk(url, paths, duration, conns, interval)


def _wrk(url: str, paths: list[str], duration: int, conns: int, interval: float) -> dict[str, Any]:
    lua = LUA % {"paths": ",".join(json.dumps(p) for p in paths), "interval": interval}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
        script = fh.name
    try:
        out = subprocess.run(["wrk", "-t", "2", "-c", str(conns), "-d", f"{duration}s",
                              "--timeout", "5s", "-s", script, url],
                             capture_output=True, text=True, timeout=duration + 60, check=True)
    finally:
        os.unlink(script)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
    w = json.loads(line.removeprefix("WRKJSON "))
    errors = {k: w[k] for k in ("connect", "read", "write", "status", "timeout") if w[k]}
    secs = w["duration_us"] / 1e6
    return {
        "tool": f"wrk ({conns} connections, {interval:.1f} ms delay between a connection's requests)",
        "requests": w["requests"], "duration_s": round(secs, 2),
        "achieved_rps": round(w["requests"] / secs, 1),
        "latency_ms": {"p50": w["p50_us"] / 1000, "p90": w["p90_us"] / 1000,
                       "p99": w["p99_us"] / 1000, "max": w["max_us"] / 1000,
                       "mean": round(w["mean_us"] / 1000, 3)},
        "errors": sum(errors.values()), "error_kinds": errors,
    }


# ---- open-loop python generator -----------------------------------------------------------------

async def _open_loop(url: str, paths: list[str], rate: float, duration: int,
                     seed: int) -> dict[str, Any]:
    import httpx

    rng = random.Random(seed)
    n = int(rate * duration)
    lat: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=5.0) as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                resp = await client.get(rng.choice(paths))
                if resp.status_code != 200:
                    errors[str(resp.status_code)] = errors.get(str(resp.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            lat.append((loop.time() - due) * 1000)   # from the scheduled time: queueing counts

        await asyncio.gather(*(one(i) for i in range(n)))
        secs = loop.time() - start
    lat.sort()

    def q(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3)

    return {
        "tool": "python open-loop (asyncio + httpx; latency from each request's scheduled time)",
        "requests": n, "duration_s": round(secs, 2), "achieved_rps": round(n / secs, 1),
        "latency_ms": {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": round(lat[-1], 3),
                       "mean": round(statistics.fmean(lat), 3)},
        "errors": sum(errors.values()), "error_kinds": errors,
    }


# ---- main ---------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second")
    ap.add_argument("--duration", type=int, default=30, help="seconds of measured load")
    ap.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections")
    ap.add_argument("--queries", type=int, default=2000, help="distinct rate queries")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--home", type=Path)
    args = ap.parse_args()
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    t0 = time.perf_counter()
    proc, url, port = start_server(args)
    startup_s = time.perf_counter() - t0
    try:
        paths, dropped, warm_ms = make_queries(port, args.queries, args.seed)
        if tool == "wrk":
            res = run_wrk(url, paths, args.rate, args.duration, args.connections, warm_ms)
        else:
            res = asyncio.run(_open_loop(url, paths, args.rate, args.duration, args.seed))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        alive, _ = get_json(conn, "/api/health")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    report = {
        "endpoint": "/api/rate", "target_rps": args.rate, **res,
        "distinct_queries": len(paths), "warmup_dropped_non_200": dropped,
        "warmup_median_ms": round(warm_ms, 3), "server_startup_s": round(startup_s, 2),
        "server": "tariffstack serve (1 uvicorn worker)", "cpus": os.cpu_count(),
        "server_alive_after": alive == 200,
        "target": {"p99_ms": TARGET_P99_MS, "errors": 0},
        "pass": res["latency_ms"]["p99"] <= TARGET_P99_MS and res["errors"] == 0,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
