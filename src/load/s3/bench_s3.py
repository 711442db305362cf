#!/usr/bin/env python3
"""The S3 backend against its object store, with the same client (wrk) and the same bytes.

    python3 src/load/s3/bench_s3.py        # from the project root; --sizes 256K,5M --duration 10 --rounds 3

Starts s3proxy (filesystem blob store, no signature checks, from the test classpath: StoreServer.java),
a fresh PostgreSQL database avatar_bench_s3 on 127.0.0.1:5432, and two server instances from
target/avatar-server.jar (built when missing) on the s3 backend, each with a data directory of its own.
For each size it runs wrk (-t2, --connections) against:
  PUT  store    raw PUTs of the image to the bucket (new key per request)
  PUT  server   uploads through instance A (streamed, hashed, parsed, staged, fsynced, one PUT to the store,
                committed in PostgreSQL, the old object deleted)
  PUT  2 inst.  the same uploads spread over A and B (two wrk at once, half the connections each)
  GET  store    GETs of the object from the bucket
  GET  server   GETs of the same bytes through A (streamed from the store)
  GET  2 inst.  the same GETs spread over A and B
and prints a Markdown table of medians over the rounds (req/s, MiB/s, p50, p99), the ratios, and the CPU
each request cost the server instance(s) serving it, the store and PostgreSQL (from /proc, ms per request).
Everything shares the machine: only ratios measured side by side in one run mean much.

--jar PATH measures another build; --baseline-jar PATH (repeatable) starts one more instance from
another build and adds its "server (JAR)" rows, measured in the same rounds (an A/B in one run). --loads keeps only the
loads whose "METHOD target" contains one of its comma-separated words (e.g. "GET", "PUT server").
--profile jfr|perf records instance A during its first measured run of each "server" load and prints
the top frames (the Profile of src/load/bench/bench.py).
"""
import argparse
import os
import random
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from bench import Profile, cpu_seconds, postgres_pids  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
JAR = os.path.join(ROOT, "target", "avatar-server.jar")
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
DB = "avatar_bench_s3"
BUCKET = "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=120, status=200):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == status:
                    return
        except Exception:
            pass
        time.sleep(0.25)
    raise SystemExit("no answer from " + url)


def png(size, seed):
    """A valid PNG of about `size` bytes: random RGB pixels, which zlib cannot shrink."""
    width = 512
    height = max(1, size // (width * 3))
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


def parse_size(text):
    text = text.strip().upper()
    factor = {"K": 1024, "M": 1024 * 1024}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * factor)


def millis(value):
    m = re.match(r"([\d.]+)(us|ms|s|m)", value)
    number, unit = float(m.group(1)), m.group(2)
    return number * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url, connections, duration, script=None, env=None):
    cmd = ["wrk", "-t2", "-c" + str(connections), "-d" + str(duration) + "s", "--latency", "--timeout", "30s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = millis(re.search(r"\n\s+50%\s+(\S+)", out).group(1))
    p99 = millis(re.search(r"\n\s+99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        print("  ! " + url + ": " + (bad.group(0) if bad else "") + " " + (errors.group(0) if errors else ""),
              file=sys.stderr)
        print(out[-600:], file=sys.stderr)
    return {"rate": rate, "p50": p50, "p99": p99}


def both(urls, connections, duration, script=None, env=None):
    """wrk against each URL at once, connections split between them: the summed rate, the worse latencies."""
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        runs = list(pool.map(lambda u: wrk(u, connections // len(urls), duration, script, env), urls))
    return {"rate": sum(r["rate"] for r in runs), "p50": max(r["p50"] for r in runs),
            "p99": max(r["p99"] for r in runs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="256K,5M")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=20, help="seconds of each kind of load before measuring")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--users", type=int, default=256)
    ap.add_argument("--xmx", default="256m")
    ap.add_argument("--jar", default=JAR, help="the server jar measured")
    ap.add_argument("--baseline-jar", action="append", default=[],
                    help="another build, measured beside --jar in the same rounds (may be repeated)")
    ap.add_argument("--loads", help="only the loads whose 'METHOD target' contains one of these comma-separated words")
    ap.add_argument("--profile", choices=["jfr", "perf"], help="profile instance A in its first run of each server load")
    args = ap.parse_args()

    if args.jar == JAR and not os.path.exists(JAR):
        subprocess.run(["mvn", "-q", "-o", "-DskipTests", "package"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="bench-s3-")
    procs = []
    try:
        cp_file = os.path.join(work, "cp.txt")
        subprocess.run(["mvn", "-q", "-o", "dependency:build-classpath", "-Dmdep.outputFile=" + cp_file,
                        "-Dmdep.includeScope=test"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        logback = os.path.join(work, "logback.xml")
        with open(logback, "w") as f:
            f.write('<configuration><root level="WARN"/></configuration>\n')

        store_port = free_port()
        store = subprocess.Popen(["java", "-Xmx512m", "-Dlogback.configurationFile=" + logback, "-cp",
                                  open(cp_file).read().strip(), "src/load/s3/StoreServer.java", str(store_port),
                                  os.path.join(work, "store"), BUCKET],
                                 cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(store)
        if store.stdout.readline().strip() != "ready":
            raise SystemExit("s3proxy did not start")
        store_url = "http://127.0.0.1:%d" % store_port

        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", "DROP DATABASE IF EXISTS " + DB],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
        env = dict(os.environ,
                   AVATAR_STORAGE_BACKEND="s3", AVATAR_STORAGE_S3_ENDPOINT=store_url,
                   AVATAR_STORAGE_S3_BUCKET=BUCKET, AVATAR_STORAGE_S3_PATH_STYLE="true",
                   AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret",
                   AVATAR_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/" + DB,
                   AVATAR_AUTH_JWT_SECRET=SECRET, AVATAR_LIMITS_USER_WRITES_PER_MINUTE="1000000",
                   AVATAR_LIMITS_USER_BURST="1000000", AVATAR_LIMITS_ADDRESS_WRITES_PER_SECOND="1000000",
                   AVATAR_LIMITS_ADDRESS_BURST="1000000", AVATAR_LIMITS_MAX_UPLOADS_PER_USER="0",
                   AVATAR_LOG_LEVEL="WARN")
        servers = []
        pids = []
        for name, jar in [("a", args.jar), ("b", args.jar)] + [("base%d" % i, j) for i, j in enumerate(args.baseline_jar)]:
            port = free_port()
            data = os.path.join(work, "data-" + name)
            log = open(os.path.join(work, "server-" + name + ".log"), "w")
            p = subprocess.Popen(["java", "-Xmx" + args.xmx, "-jar", jar],
                                 env=dict(env, AVATAR_HTTP_PORT=str(port), AVATAR_STORAGE_DATA_DIR=data),
                                 cwd=work, stdout=log, stderr=subprocess.STDOUT)
            procs.append(p)
            pids.append(p.pid)
            servers.append("http://127.0.0.1:%d" % port)
            wait_for(servers[-1] + "/health/ready")
        tokens = os.path.join(work, "tokens.txt")
        subprocess.run(["java", "-jar", args.jar, "users", "create", "--count", str(args.users), "--tokens", tokens,
                        "--url", servers[0]], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
        first_user, first_token = open(tokens).readline().split()

        store_put = os.path.join(ROOT, "src", "load", "s3", "store_put.lua")
        upload = os.path.join(ROOT, "src", "load", "wrk", "upload.lua")
        rows = []
        profiles = []
        for size_text in args.sizes.split(","):
            size = parse_size(size_text)
            image = os.path.join(work, "image-%s.png" % size_text)
            body = png(size, size)
            with open(image, "wb") as f:
                f.write(body)
            # The GET targets: one object in the bucket, the same bytes as user 1's avatar.
            urllib.request.urlopen(urllib.request.Request(store_url + "/" + BUCKET + "/get/" + size_text + ".png",
                                                          data=body, method="PUT",
                                                          headers={"Content-Type": "image/png"})).read()
            urllib.request.urlopen(urllib.request.Request(servers[0] + "/users/" + first_user + "/avatar", data=body,
                                                          method="PUT", headers={"Content-Type": "image/png",
                                                                                 "Authorization": "Bearer " + first_token})).read()
            avatar = "/users/" + first_user + "/avatar"
            loads = [
                ("PUT", "store", lambda d: wrk(store_url, args.connections, d, store_put,
                                               {"IMAGE": image, "BUCKET": BUCKET})),
                ("PUT", "server", lambda d: wrk(servers[0], args.connections, d, upload,
                                                {"IMAGE": image, "TOKENS": tokens})),
                ("PUT", "2 instances", lambda d: both(servers[:2], args.connections, d, upload,
                                                      {"IMAGE": image, "TOKENS": tokens})),
                ("GET", "store", lambda d: wrk(store_url + "/" + BUCKET + "/get/" + size_text + ".png",
                                               args.connections, d)),
                ("GET", "server", lambda d: wrk(servers[0] + avatar, args.connections, d)),
                ("GET", "2 instances", lambda d: both([s + avatar for s in servers[:2]], args.connections, d)),
            ]
            for i, jar in enumerate(args.baseline_jar):
                base, label = servers[2 + i], "server (%s)" % os.path.basename(jar)
                loads += [
                    ("PUT", label, lambda d, base=base: wrk(base, args.connections, d, upload,
                                                            {"IMAGE": image, "TOKENS": tokens})),
                    ("GET", label, lambda d, base=base: wrk(base + avatar, args.connections, d)),
                ]
            # Whose CPU each load is charged with, besides the store's and PostgreSQL's.
            served_by = {"store": [], "server": pids[:1], "2 instances": pids[:2]}
            for i, jar in enumerate(args.baseline_jar):
                served_by["server (%s)" % os.path.basename(jar)] = [pids[2 + i]]
            if args.loads:
                words = [w.strip() for w in args.loads.split(",")]
                loads = [l for l in loads if any(w in l[0] + " " + l[1] for w in words)]
            for method, target, run in loads:
                run(args.warmup)
            results = {(m, t): [] for m, t, _ in loads}
            for r in range(args.rounds):
                order = loads if r % 2 == 0 else list(reversed(loads))
                for method, target, run in order:
                    profile = None
                    if args.profile and r == 0 and target == "server":
                        profile = Profile(args.profile, pids[0], work, "%s-%s" % (method, size_text))
                        profile.start()
                    watched = [store.pid] + pids + postgres_pids()
                    before = cpu_seconds(watched)
                    result = run(args.duration)
                    after = cpu_seconds(watched)
                    requests = max(1.0, result["rate"] * args.duration)

                    def ms(which):
                        return 1000.0 * sum(after.get(p, 0) - before.get(p, 0) for p in which if p in after) / requests
                    result["server_ms"] = ms(served_by[target])
                    result["store_ms"] = ms([store.pid])
                    result["pg_ms"] = ms([p for p in watched if p != store.pid and p not in pids])
                    results[(method, target)].append(result)
                    if profile:
                        profiles.append("%s %s through instance A:\n%s" % (method, size_text, profile.finish()))
            for method, target, _ in loads:
                runs = results[(method, target)]
                med = {k: statistics.median(x[k] for x in runs)
                       for k in ("rate", "p50", "p99", "server_ms", "store_ms", "pg_ms")}
                rows.append((method, size_text, target, med))

        print()
        print("| load | size | target | req/s | MiB/s | p50 ms | p99 ms | vs store | 2 instances vs 1 |"
              " CPU ms/req: server | store | PostgreSQL |")
        print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        by = {(m, s, t): med for m, s, t, med in rows}
        for method, size_text, target, med in rows:
            store = by.get((method, size_text, "store"))
            one = by.get((method, size_text, "server"), {}).get("rate")
            print("| %s | %s | %s | %.0f | %.1f | %.1f | %.1f | %s | %s | %.2f | %.2f | %.2f |" % (
                method, size_text, target, med["rate"], med["rate"] * parse_size(size_text) / 1048576, med["p50"],
                med["p99"], "" if target == "store" or not store else "%.2f×" % (med["rate"] / store["rate"]),
                "%.2f×" % (med["rate"] / one) if target == "2 instances" and one else "",
                med["server_ms"], med["store_ms"], med["pg_ms"]))
        for text in profiles:
            print()
            print("Profile of " + text)
    finally:
        for p in reversed(procs):
            if p.stdin:
                p.stdin.close()
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", "DROP DATABASE IF EXISTS " + DB],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
