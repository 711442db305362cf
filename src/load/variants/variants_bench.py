#!/usr/bin/env python3
"""Sized variants under load: a stampede on one new variant, and a warm variant served against the original.

    python3 src/load/variants/variants_bench.py [--stampede 500] [--duration 10] [--connections 64] [--rounds 3]
    python3 src/load/variants/variants_bench.py --test-renderer     # a build without a render engine yet

Run from the project root, with PostgreSQL on 127.0.0.1:5432 (database `test`); it creates the database
`avatar_variants_bench` for the run. It starts the server (the jar, `-Xmx256m`; with --test-renderer the
classes and the test suite's ImageIO renderer instead, through ImageIoServer.java), creates one user,
uploads a 1024x1024 JPEG (made with Pillow when installed, else the test fixture large-1200.jpg), then:

1. Stampede: `--stampede` concurrent GETs of one variant not yet rendered (`?size=256&format=png`),
   each on its own connection, released at once. Reports the statuses, whether every body is the same,
   the p50/p99/max latency, and the renders the server counted (`avatar_variant_renders_total` in
   /metrics: the goal is 1) and the variant rows and files stored (1).
2. Warm: `wrk -t2 -cN` on the variant (now stored) and on an original of the very same bytes (a second
   user whose avatar is the variant's PNG, so only the serving path differs), alternating which goes
   first in each round; req/s medians and their ratio (goal: the variant at >= 0.9x the original's rate).
3. Renders per second (`--render-users N`, 0 to skip): N more users get `--render-original` (default:
   the same JPEG) as their avatar, then one new variant of each is asked for, `--render-concurrency`
   at a time (within `variants.workers` + `variants.queue`, so every request renders and none is
   answered from the fallback), first `?size=256&format=webp` for all, then `?size=64&format=webp`
   for all; it reports renders/s (from the server's `avatar_variant_renders_total`, over the wall time
   of the phase) and the p50/p99 of a request. `variants.workers` is the server's (2 by default); pass
   `--server-config '{"variants":{"engine":"vips"}}'` for libvips.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
JAR = os.path.join(ROOT, "target", "avatar-server.jar")
PORT = 18085
SECRET = "variants-bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
DB = "avatar_variants_bench"


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def java_command(args, main):
    """The java command line that runs `main` ("server" or the CLI) of the build under test."""
    if args.test_renderer:
        cp_file = os.path.join(ROOT, "target", "bench.classpath")
        if not os.path.exists(cp_file):
            run(["mvn", "-q", "-o", "dependency:build-classpath", "-Dmdep.outputFile=" + cp_file], cwd=ROOT)
        cp = ":".join([os.path.join(ROOT, "target", "classes"), os.path.join(ROOT, "target", "test-classes"),
                       open(cp_file).read().strip()])
        if main == "server":
            return ["java", "-Xmx" + args.xmx, "-cp", cp, os.path.join(ROOT, "src", "load", "variants", "ImageIoServer.java")]
        return ["java", "-cp", cp, "io.avatarserver.Main"]
    if not os.path.exists(args.jar):
        log("building the jar")
        run(["mvn", "-q", "-DskipTests", "package"], cwd=ROOT)
    return ["java", "-Xmx" + args.xmx, "-jar", args.jar] if main == "server" else ["java", "-jar", args.jar]


def original_image(work):
    path = os.path.join(work, "original.jpg")
    try:
        from PIL import Image  # noqa: import only when present
        import random
        rng = random.Random(7)
        img = Image.new("RGB", (1024, 1024))
        px = img.load()
        for y in range(0, 1024, 8):
            for x in range(0, 1024, 8):
                c = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                for dy in range(8):
                    for dx in range(8):
                        px[x + dx, y + dy] = c
        img.save(path, "JPEG", quality=90)
    except ImportError:
        shutil.copy(os.path.join(ROOT, "src", "test", "resources", "fixtures", "images", "large-1200.jpg"), path)
    return path


def metric(name):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % PORT, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def stampede(path, n):
    """n raw HTTP/1.1 GETs on n connections, all connected first, then sent at once."""
    import socket
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", PORT), timeout=60)
        socks.append(s)
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode()
    results = [None] * n
    go = threading.Event()

    def one(i):
        go.wait()
        started = time.perf_counter()
        socks[i].sendall(request)
        data = b""
        while True:
            chunk = socks[i].recv(65536)
            if not chunk:
                break
            data += chunk
        socks[i].close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        results[i] = (status, body, time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    return results


def renders_per_second(args, users, image):
    """Uploads `image` for each user, then times one new variant per user, --render-concurrency at a time."""
    from concurrent.futures import ThreadPoolExecutor
    kind = "image/png" if image[:4] == b"\x89PNG" else "image/jpeg"
    for uid, tok in users:
        req = urllib.request.Request("http://127.0.0.1:%d/users/%s/avatar" % (PORT, uid), data=image, method="PUT",
                                     headers={"Authorization": "Bearer " + tok, "Content-Type": kind})
        urllib.request.urlopen(req, timeout=60).read()

    def one(url):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as r:
            r.read()
            return r.status, r.headers.get("Cache-Control", ""), time.perf_counter() - started

    print("\n## Renders per second: one new variant for each of %d avatars (%d-byte original), %d requests at a time\n"
          % (len(users), len(image), args.render_concurrency))
    print("| variant | renders | wall s | renders/s | p50 ms | p99 ms | statuses |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for size in (256, 64):
        urls = ["http://127.0.0.1:%d/users/%s/avatar?size=%d&format=webp" % (PORT, uid, size) for uid, _ in users]
        before = metric("avatar_variant_renders_total") or 0.0
        started = time.perf_counter()
        with ThreadPoolExecutor(args.render_concurrency) as pool:
            results = list(pool.map(one, urls))
        wall = time.perf_counter() - started
        renders = (metric("avatar_variant_renders_total") or 0.0) - before
        fallbacks = sum(1 for _, cc, _ in results if "max-age=60" in cc)
        if fallbacks:
            raise SystemExit("%d requests were answered from the fallback: lower --render-concurrency" % fallbacks)
        statuses = {}
        for status, _, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        ms = sorted(r[2] * 1000 for r in results)
        print("| %d px WebP | %d | %.1f | %.1f | %.0f | %.0f | %s |" % (
            size, renders, wall, renders / wall, ms[len(ms) // 2], ms[max(0, int(len(ms) * 0.99) - 1)],
            ", ".join("%d×%d" % (c, s) for s, c in sorted(statuses.items()))))


def wrk(url, args):
    out = subprocess.run(["wrk", "-t2", "-c%d" % args.connections, "-d%ds" % args.duration, "--latency", url],
                         check=True, capture_output=True, text=True).stdout
    rps = float([l for l in out.splitlines() if l.startswith("Requests/sec:")][0].split()[1])
    non2xx = [l for l in out.splitlines() if "Non-2xx" in l]
    if non2xx:
        raise SystemExit("wrk saw errors on %s: %s" % (url, non2xx[0]))
    return rps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stampede", type=int, default=500)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=30, help="seconds of unmeasured wrk load on each URL first")
    parser.add_argument("--xmx", default="256m")
    parser.add_argument("--jar", default=JAR)
    parser.add_argument("--test-renderer", action="store_true",
                        help="run target/classes with the test suite's ImageIO renderer (mvn -o test-compile first)")
    parser.add_argument("--server-config", default="{}", help="JSON merged into the server's configuration")
    parser.add_argument("--render-users", type=int, default=24, help="users for the renders-per-second phase (0: skip)")
    parser.add_argument("--render-original", help="the image those users upload (default: the stampede's JPEG)")
    parser.add_argument("--render-concurrency", type=int, default=8)
    parser.add_argument("--skip-warm", action="store_true", help="no stampede twin and no wrk phase")
    args = parser.parse_args()

    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        raise SystemExit("PostgreSQL is not up on 127.0.0.1:5432")
    for sql in ("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB, "CREATE DATABASE %s" % DB):
        run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql])
    work = tempfile.mkdtemp(prefix="avatar-variants-bench-", dir="/var/tmp")
    log("work directory " + work)
    config = os.path.join(work, "server.json")
    settings = {
        "http": {"host": "127.0.0.1", "port": PORT},
        "storage": {"dataDir": os.path.join(work, "server")},
        "database": {"url": "postgresql://postgres@127.0.0.1:5432/" + DB},
        "auth": {"jwtSecret": SECRET},
        "limits": {"userWritesPerMinute": 0, "addressWritesPerSecond": 0, "maxUploadsPerUser": 0},
    }
    for section, values in json.loads(args.server_config).items():
        settings.setdefault(section, {}).update(values)
    with open(config, "w") as f:
        json.dump(settings, f)
    env = dict(os.environ, AVATAR_CONFIG=config, AVATAR_LOG_LEVEL="WARN")
    server_log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(java_command(args, "server"), cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/health/live" % PORT, timeout=1)
                break
            except Exception:
                if server.poll() is not None:
                    raise SystemExit("the server exited; see " + server_log.name)
                time.sleep(0.1)
        tokens = os.path.join(work, "tokens.txt")
        run(java_command(args, "cli") + ["users", "create", "--count", str(2 + args.render_users), "--tokens", tokens,
                                         "--url", "http://127.0.0.1:%d" % PORT], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        words = open(tokens).read().split()
        user, token, twin, twin_token = words[:4]
        render_users = list(zip(words[4::2], words[5::2]))
        body = open(original_image(work), "rb").read()
        req = urllib.request.Request("http://127.0.0.1:%d/users/%s/avatar" % (PORT, user), data=body, method="PUT",
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "image/jpeg"})
        original = json.loads(urllib.request.urlopen(req, timeout=30).read() or b"{}")
        log("uploaded %d bytes for user %s: %s" % (len(body), user, original.get("url", "")))

        variant = "/users/%s/avatar?size=256&format=png" % user
        before = metric("avatar_variant_renders_total") or 0.0
        results = stampede(variant, args.stampede)
        renders = (metric("avatar_variant_renders_total") or 0.0) - before
        statuses = {}
        for status, _, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        bodies = {r[1] for r in results if r[0] == 200}
        latencies = sorted(r[2] * 1000 for r in results)
        rows = subprocess.run(["psql", "-qtA", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-c",
                               "SELECT COUNT(*) FROM variants"], check=True, capture_output=True, text=True).stdout.strip()
        files = sum(len(fs) for _, _, fs in os.walk(os.path.join(work, "server", "avatars")))
        print("## Stampede: %d concurrent first GETs of one variant (256 px PNG of a %d-byte JPEG)\n"
              % (args.stampede, len(body)))
        print("| statuses | distinct bodies | renders | variant rows | stored files | p50 ms | p99 ms | max ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("| %s | %d | %d | %s | %d (original + variants) | %.0f | %.0f | %.0f |" % (
            ", ".join("%d×%d" % (c, s) for s, c in sorted(statuses.items())), len(bodies), renders, rows, files,
            latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1], latencies[-1]))

        if args.render_users:
            renders_per_second(args, render_users, open(args.render_original or original_image(work), "rb").read())
        if args.skip_warm:
            return
        # The same bytes as an original: a second user's avatar is the variant's PNG, so both sides send the
        # same number of bytes and only the serving path differs.
        variant_bytes = results[0][1]
        req = urllib.request.Request("http://127.0.0.1:%d/users/%s/avatar" % (PORT, twin), data=variant_bytes,
                                     method="PUT", headers={"Authorization": "Bearer " + twin_token,
                                                            "Content-Type": "image/png"})
        urllib.request.urlopen(req, timeout=30).read()
        urls = {"variant": "http://127.0.0.1:%d%s" % (PORT, variant),
                "original": "http://127.0.0.1:%d/users/%s/avatar" % (PORT, twin)}
        sizes = {k: len(urllib.request.urlopen(u, timeout=10).read()) for k, u in urls.items()}
        for name, url in urls.items():
            log("warming up %s for %d s" % (name, args.warmup))
            subprocess.run(["wrk", "-t2", "-c%d" % args.connections, "-d%ds" % args.warmup, url],
                           check=True, capture_output=True)
        measured = {"variant": [], "original": []}
        for r in range(args.rounds):
            order = ["variant", "original"] if r % 2 == 0 else ["original", "variant"]
            for name in order:
                measured[name].append(wrk(urls[name], args))
                log("round %d %s: %.0f req/s" % (r + 1, name, measured[name][-1]))
        v = statistics.median(measured["variant"])
        o = statistics.median(measured["original"])
        print("\n## Warm: wrk -t2 -c%d, %d × %d s, medians\n" % (args.connections, args.rounds, args.duration))
        print("| URL | bytes | req/s | vs original |")
        print("| --- | ---: | ---: | ---: |")
        print("| variant `?size=256&format=png` | %d | %.0f | %.2f× |" % (sizes["variant"], v, v / o))
        print("| original of the same bytes (another user's avatar) | %d | %.0f | 1.00× |" % (sizes["original"], o))
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
