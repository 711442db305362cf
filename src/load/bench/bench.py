#!/usr/bin/env python3
"""Side-by-side benchmark: avatar-server on PostgreSQL against nginx WebDAV PUT, same machine, same load.

    python3 src/load/bench/bench.py [--rounds 3] [--duration 10] [--connections 64] [--xmx 256m]
                                    [--cold-size 1M] [--profile jfr|perf]

Run from the project root. Installs wrk and nginx-light with apt-get when they are missing, builds
the jar when it is missing, makes sure PostgreSQL is up and creates a fresh database for the run.
For each body size (256 KiB, 1 MiB, 5 MiB) it runs wrk with 64 connections against the server and
against nginx, alternating which goes first in each round, then does the same with GETs of the same
files. It prints one table of medians over the rounds: req/s, MB/s, p50 and p99 latency, the peak RSS
of the server process (and of nginx's workers), the server's peak heap (from /metrics), the CPU time per
request of the target, of PostgreSQL and of wrk, and the ratio to nginx. The machine is shared and
noisy: only the side-by-side ratios mean much.

Before any warm-up, the first --cold-seconds of load after the cold start (PUTs of --cold-size) are
measured on both and reported as their own row ("cold"): what a short wrk run against a freshly started
server sees. The warm-up then logs req/s and JIT time per 10 s step, the road to the steady state.

--profile jfr records the server with Java Flight Recorder (jcmd JFR.start/stop) during its first
measured run of each load and prints the top frames (samples of Java code on Java threads, and the
deoptimizations and compilations in the run); --profile perf does the same with `perf record -g`
(cpu-clock, the whole process: JIT compiler threads, GC, native and kernel frames too; Java frames are
named from the map `jcmd PID Compiler.perfmap` writes), and records nginx's workers the same way in their
first measured run of each load. The recordings are kept in a directory the run names at its end.
BENCH_SERVER_JVM_ARGS (environment) adds JVM options to the server's command line.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
JAR = os.path.join(ROOT, "target", "avatar-server.jar")
SERVER_PORT = 18080
NGINX_PORT = 18090
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
SIZES = [("256 KiB", 256 * 1024), ("1 MiB", 1024 * 1024), ("5 MiB", 5 * 1024 * 1024)]
USERS = 256
STEP = 10  # seconds per warm-up run
JIT_SETTLED = 0.05  # the server is warm once its compilers take at most this share of one core


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def ensure_tools():
    missing = [p for p, b in (("wrk", "wrk"), ("nginx-light", "nginx")) if shutil.which(b) is None
               and not os.path.exists("/usr/sbin/" + b)]
    if missing:
        log("installing " + " ".join(missing))
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq"] + missing, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if not os.path.exists(JAR):
        log("building the jar")
        run(["mvn", "-q", "-DskipTests", "package"], cwd=ROOT)


def ensure_postgres():
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        version = os.listdir("/etc/postgresql")[0]
        run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        time.sleep(2)
    for sql in ("DROP DATABASE IF EXISTS avatar_bench WITH (FORCE)", "CREATE DATABASE avatar_bench"):
        run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql])


def png(size, seed):
    """A decodable PNG of exactly `size` bytes: 8-bit greyscale rows of seeded random pixels, stored
    uncompressed (deflate stored blocks); the exact size comes from empty stored blocks (5 bytes each) and
    from splitting the image data over up to five IDAT chunks. Only chunks the server stores are used (it
    drops private ancillary chunks), so what is sent is what is stored, byte for byte: the same
    construction as the tests' Bodies.png(size, seed)."""
    width = max(1, min(4096, size // 64))
    fixed = 8 + 25 + 12 + 12 + 2 + 4  # signature, IHDR, IEND, one IDAT's frame, zlib header and Adler-32
    for height in range(min(4096, (size - fixed) // (width + 1)), 0, -1):
        raw_len = height * (width + 1)
        rest = size - fixed - raw_len - 5 * ((raw_len + 65534) // 65535)
        for splits in range(5):
            if rest < 0:
                break
            padding = rest - 12 * splits
            if padding >= 0 and padding % 5 == 0:
                return grey_png(width, height, padding // 5, splits + 1, seed)
    raise ValueError("no PNG of exactly %d bytes here" % size)


def grey_png(width, height, empty_blocks, idats, seed):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    rng = random.Random(seed)
    raw = bytearray(rng.getrandbits(8 * height * (width + 1)).to_bytes(height * (width + 1), "little"))
    for row in range(height):
        raw[row * (width + 1)] = 0  # filter: none
    data = bytearray(b"\x78\x01") + b"\x00\x00\x00\xff\xff" * empty_blocks
    for at in range(0, len(raw), 65535):
        n = min(65535, len(raw) - at)
        data += bytes([1 if at + n == len(raw) else 0]) + struct.pack("<HH", n, n ^ 0xffff) + raw[at:at + n]
    data += struct.pack(">I", zlib.adler32(bytes(raw)) & 0xffffffff)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    piece = len(data) // idats
    for i in range(idats):
        out += chunk(b"IDAT", bytes(data[i * piece:len(data) if i == idats - 1 else (i + 1) * piece]))
    return out + chunk(b"IEND", b"")


def cpu_seconds(pids):
    """User plus system CPU time of each of these processes (all their threads), in seconds."""
    seconds = {}
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return seconds


def cpu_used(before, after):
    """CPU seconds used between two cpu_seconds() readings; a process that started meanwhile counts whole."""
    return sum(t - before.get(pid, 0) for pid, t in after.items())


def postgres_pids():
    """PostgreSQL's processes: the server's work per request includes its database's."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/comm" % entry) as f:
                    if f.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def heap_bytes():
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % SERVER_PORT, timeout=2).read().decode()
    except OSError:
        return 0
    return sum(float(m.group(1)) for m in re.finditer(r'^jvm_memory_used_bytes\{area="heap"[^}]*\} (\S+)', text, re.M))


class Sampler:
    """Samples RSS (and the server's heap) while a run goes on; keeps the peaks."""

    def __init__(self, pids, heap):
        self.pids, self.heap = pids, heap
        self.rss = self.heap_peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        n = 0
        while not self.stop.is_set():
            self.rss = max(self.rss, rss_kib(self.pids()))
            if self.heap and n % 3 == 0:
                self.heap_peak = max(self.heap_peak, heap_bytes())
            n += 1
            self.stop.wait(0.2)

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.rss * 1024, self.heap_peak


def wrk(script, url, env, args, duration=None):
    command = ["wrk", "-t2", "-c%d" % args.connections, "-d%ds" % (duration or args.duration), "--timeout", "30s",
               "-s", script, url]
    before = os.times()
    out = subprocess.run(command, cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True, check=True).stdout
    after = os.times()
    wrk_cpu = after.children_user + after.children_system - before.children_user - before.children_system
    m = re.search(r"RESULT requests=(\d+) ok=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) socket_errors=(\d+)", out)
    if not m:
        raise RuntimeError("no RESULT line from wrk:\n" + out)
    requests, ok, duration, p50, p99, errors = map(int, m.groups())
    statuses = re.search(r"statuses:.*", out).group(0)
    if ok != requests:
        log("  warning: not all answers were 2xx: " + statuses)
    return {"rps": ok / (duration / 1e6), "p50": p50 / 1000, "p99": p99 / 1000, "ok": ok, "requests": requests,
            "errors": errors, "wrk_cpu": wrk_cpu * 1000 / max(ok, 1)}


def jit_seconds(pid):
    """Seconds the JVM's compilers have spent so far (jstat -compiler, from the JDK); None without jstat."""
    try:
        lines = subprocess.run(["jstat", "-compiler", str(pid)], capture_output=True, text=True, timeout=30).stdout
        return float(lines.split("\n")[1].split()[3])
    except (OSError, IndexError, ValueError, subprocess.SubprocessError):
        return None


class Profile:
    """A profile of the server process during one run: JFR (Java frames of Java threads) or perf (all of
    the process, kernel and JIT compiler threads included). start() before the run, finish() after it;
    finish() returns the text to print."""

    def __init__(self, kind, pid, work, name, pids=None):
        """pids: other processes to record instead of the JVM pid (perf only: nginx's workers)."""
        self.kind, self.pid, self.name, self.pids = kind, pid, name, pids
        self.file = os.path.join(work, "%s.%s" % (name, "jfr" if kind == "jfr" else "perf.data"))
        self.perf = None

    def start(self):
        if self.kind == "jfr":
            run(["jcmd", str(self.pid), "JFR.start", "name=bench", "settings=profile", "filename=" + self.file],
                stdout=subprocess.DEVNULL)
        else:
            self.perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "-g",
                                          "-p", ",".join(map(str, self.pids or [self.pid])), "-o", self.file],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def finish(self):
        try:
            if self.kind == "jfr":
                run(["jcmd", str(self.pid), "JFR.stop", "name=bench"], stdout=subprocess.DEVNULL)
                return jfr_summary(self.file)
            self.perf.send_signal(signal.SIGINT)
            self.perf.wait(60)
            if not self.pids:
                # Names for the JIT-compiled frames: /tmp/perf-PID.map, written now (JDK 17's Compiler.perfmap).
                subprocess.run(["jcmd", str(self.pid), "Compiler.perfmap"], stdout=subprocess.DEVNULL)
            return perf_summary(self.file, "nginx's workers" if self.pids else "the whole server process")
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            return "  (no profile: %s)" % e


def jfr_summary(path, top=25):
    """Top frames of a JFR recording: self samples by method, samples by thread, the avatar-server methods
    on the stack (inclusive), and the deoptimizations and compilations recorded."""
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events",
                          "jdk.ExecutionSample,jdk.Deoptimization,jdk.Compilation", path],
                         capture_output=True, text=True, check=True).stdout
    events = json.loads(out)["recording"]["events"]
    self_count, threads, ours = collections.Counter(), collections.Counter(), collections.Counter()
    deopts, compile_ms, compiles, samples = collections.Counter(), 0.0, 0, 0

    def name(frame):
        method = frame["method"]
        # JFR writes internal names (a/b/C); hidden classes carry addresses that differ in each run.
        owner = re.sub(r"\$\$Lambda\$.*", "$$Lambda", method["type"]["name"].replace("/", "."))
        return "%s.%s" % (owner, method["name"])

    for e in events:
        values = e["values"]
        if e["type"] == "jdk.ExecutionSample":
            frames = (values.get("stackTrace") or {}).get("frames") or []
            if not frames:
                continue
            samples += 1
            self_count[name(frames[0])] += 1
            threads[re.sub(r"\d+", "N", (values.get("sampledThread") or {}).get("javaName") or "?")] += 1
            for method in {n for n in map(name, frames) if n.startswith("io.avatarserver.")}:
                ours[method] += 1
        elif e["type"] == "jdk.Deoptimization":
            method = values.get("method") or {}
            deopts["%s.%s %s" % (((method.get("type") or {}).get("name") or "?").replace("/", "."), method.get("name"),
                                 values.get("reason"))] += 1
        elif e["type"] == "jdk.Compilation":
            compiles += 1
            duration = values.get("duration", "PT0S")
            m = re.match(r"PT(?:(\d+)M)?([\d.]+)S", duration)
            if m:
                compile_ms += (int(m.group(1) or 0) * 60 + float(m.group(2))) * 1000
    lines = ["  JFR: %d execution samples (Java code on Java threads only); %d compilations took %.0f ms; %d deoptimizations"
             % (samples, compiles, compile_ms, sum(deopts.values()))]
    lines.append("  top frames (self):")
    lines += ["    %5.1f %%  %s" % (100.0 * n / samples, m) for m, n in self_count.most_common(top)]
    lines.append("  by thread:")
    lines += ["    %5.1f %%  %s" % (100.0 * n / samples, t) for t, n in threads.most_common(8)]
    lines.append("  avatar-server methods on the stack (inclusive):")
    lines += ["    %5.1f %%  %s" % (100.0 * n / samples, m) for m, n in ours.most_common(15)]
    if deopts:
        lines.append("  deoptimizations (method, reason):")
        lines += ["    %5d  %s" % (n, d) for d, n in deopts.most_common(10)]
    return "\n".join(lines)


def perf_summary(path, what, limit="0.7"):
    """perf report of a recording: CPU by thread (comm), then by symbol (self), with their shares."""
    def report(sort):
        out = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children", "-g", "none", "--sort", sort,
                              "--percent-limit", limit], capture_output=True, text=True).stdout
        return ["    " + l.strip() for l in out.splitlines() if l.strip() and not l.startswith("#")]
    return "\n".join(["  perf (cpu-clock, %s): by thread" % what] + report("comm")
                     + ["  by object (JIT-compiled Java in perf-PID.map, the kernel, libraries):"] + report("dso")
                     + ["  by symbol (self):"] + report("sym"))


def await_ready(process, what):
    for _ in range(240):
        if process.poll() is not None:
            raise RuntimeError("%s exited with %s at start" % (what, process.returncode))
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/health/ready" % SERVER_PORT, timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("%s did not become ready" % what)


def train_cds(jvm, jar, env, work, images):
    """A dynamic class-data archive (JDK 13+: -XX:ArchiveClassesAtExit) of the classes a short training run
    loads: the server starts, takes a few uploads of each body and GETs, and stops; the measured server then
    maps those classes from the archive (-XX:SharedArchiveFile) instead of loading and verifying them."""
    archive = os.path.join(work, "server.jsa")
    log("training run for the class-data archive " + archive)
    with open(os.path.join(work, "cds-training.log"), "w") as out:
        trainer = subprocess.Popen(jvm + ["-XX:ArchiveClassesAtExit=" + archive, "-jar", jar], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            await_ready(trainer, "the CDS training server")
            tokens = os.path.join(work, "cds-tokens.txt")
            run(["java", "-jar", jar, "users", "create", "--count", "4", "--tokens", tokens,
                 "--url", "http://127.0.0.1:%d" % SERVER_PORT], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            for _ in range(3):
                check_stored(tokens, images)
            uid = open(tokens).readline().split()[0]
            urllib.request.urlopen("http://127.0.0.1:%d/users/%s/avatar" % (SERVER_PORT, uid)).read()
        finally:
            trainer.send_signal(signal.SIGTERM)
            trainer.wait(120)
    if not os.path.exists(archive):
        raise RuntimeError("no class-data archive was written; see " + work)
    return archive


def check_stored(tokens, images):
    """What the server stores must be what is sent (a body it strips would make it look faster)."""
    uid, token = open(tokens).readline().split()
    for label, path in images.items():
        body = open(path, "rb").read()
        req = urllib.request.Request("http://127.0.0.1:%d/users/%s/avatar" % (SERVER_PORT, uid), data=body,
                                     method="PUT", headers={"Authorization": "Bearer " + token,
                                                            "Content-Type": "image/png"})
        stored = json.loads(urllib.request.urlopen(req).read())["size"]
        if stored != len(body):
            raise RuntimeError("the server stored %d of the %d bytes of the %s body" % (stored, len(body), label))


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def merge(base, extra):
    """base with extra's keys laid over it, objects merged key by key."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def ensure_free(port):
    """Refuses to run when something already listens on a port: it would be measured instead of ours."""
    import socket
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit("port %d is taken (a previous run's process?); stop what listens there first" % port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=20,
                        help="seconds of unmeasured load on each target first; the server's goes on until its JIT settles")
    parser.add_argument("--warmup-max", type=int, default=300, help="the most seconds the server's warm-up may take")
    parser.add_argument("--xmx", default="256m", help="the server's maximum heap")
    parser.add_argument("--sizes", default="256K,1M,5M", help="PUT body sizes to run, of 256K, 1M, 5M")
    parser.add_argument("--no-get", action="store_true", help="skip the GET comparison")
    parser.add_argument("--jar", default=JAR, help="the server jar to measure (to compare two builds, one run each)")
    parser.add_argument("--cold-seconds", type=int, default=10,
                        help="seconds of load measured on each target right after the start, before any warm-up (0: none)")
    parser.add_argument("--cold-size", default="1M", choices=["256K", "1M", "5M"], help="PUT body size of the cold run")
    parser.add_argument("--profile", choices=["jfr", "perf"],
                        help="profile the server during its first measured run of each load and print the top frames")
    parser.add_argument("--cds", action="store_true",
                        help="start the server with a class-data archive made by a short training run first")
    parser.add_argument("--server-config", default="{}",
                        help='JSON merged into the server\'s configuration, e.g. \'{"upload": {"writeBufferBytes": 262144}}\'')
    parser.add_argument("--cold-ab", action="append", default=[], metavar="NAME=OPTIONS",
                        help="cold starts only: for each of --cold-rounds rounds, start the server afresh once per such "
                             "variant (its options added: JVM options, and AVATAR_…=value settings in its environment; order rotated each round), measure its first "
                             "--cold-seconds of load and nginx's beside it, and print medians per variant")
    parser.add_argument("--cold-rounds", type=int, default=3, help="rounds of --cold-ab")
    args = parser.parse_args()
    wanted = {"256K": "256 KiB", "1M": "1 MiB", "5M": "5 MiB"}
    if args.cold_ab:
        cold_ab(args, wanted[args.cold_size])
        return
    run_sizes = [(l, s) for l, s in SIZES if l in {wanted[w] for w in args.sizes.split(",") if w}]

    ensure_tools()
    ensure_free(SERVER_PORT)
    ensure_free(NGINX_PORT)
    ensure_postgres()
    work = tempfile.mkdtemp(prefix="avatar-bench-", dir="/var/tmp")
    log("work directory " + work)
    images = {}
    for label, size in SIZES:
        images[label] = os.path.join(work, "body-%d.png" % size)
        with open(images[label], "wb") as f:
            f.write(png(size, size))

    config = os.path.join(work, "server.json")
    with open(config, "w") as f:
        json.dump(merge(server_settings(os.path.join(work, "server")), json.loads(args.server_config)), f)
    env = dict(os.environ, AVATAR_CONFIG=config, AVATAR_LOG_LEVEL="WARN")
    server_log = open(os.path.join(work, "server.log"), "w")
    jvm = ["java", "-Xmx" + args.xmx] + os.environ.get("BENCH_SERVER_JVM_ARGS", "").split()
    if args.cds:
        jvm.append("-XX:SharedArchiveFile=" + train_cds(jvm, args.jar, env, work, images))
    started = time.time()
    server = subprocess.Popen(jvm + ["-jar", args.jar], cwd=ROOT, env=env, stdout=server_log,
                              stderr=subprocess.STDOUT)

    nginx_dir = os.path.join(work, "nginx")
    nginx = start_nginx(nginx_dir)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/health/ready" % SERVER_PORT, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        for name, process in (("avatar-server", server), ("nginx", nginx)):
            if process.poll() is not None:
                raise RuntimeError("%s exited with %s at start; see %s" % (name, process.returncode, work))
        log("the server was ready %.1f s after its start (%s)" % (time.time() - started, " ".join(jvm[1:])))
        tokens = os.path.join(work, "tokens.txt")
        run(["java", "-jar", JAR, "users", "create", "--count", str(USERS), "--tokens", tokens,
             "--url", "http://127.0.0.1:%d" % SERVER_PORT], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)

        targets = {
            "avatar-server": ("src/load/wrk/upload.lua", "http://127.0.0.1:%d" % SERVER_PORT,
                              lambda: [server.pid], True),
            "nginx": ("src/load/wrk/nginx-dav.lua", "http://127.0.0.1:%d" % NGINX_PORT,
                      lambda: children(nginx.pid), False),
        }
        results = {}
        profiles = []
        profiled = set()

        def jit(name):
            """The server's JIT seconds so far; None for nginx, or without jstat."""
            return jit_seconds(server.pid) if name == "avatar-server" else None

        def measure(kind, label, name, extra_env, script=None, duration=None):
            default_script, url, pids, heap = targets[name]
            profile = None
            # perf also records nginx's workers in their first measured run, to set the two side by side.
            if args.profile and (name == "avatar-server" or args.profile == "perf") and (kind, label, name) not in profiled:
                profiled.add((kind, label, name))
                profile = Profile(args.profile, server.pid, work, "%s-%s-%s" % (kind, label.replace(" ", ""), name),
                                  None if name == "avatar-server" else pids())
                profile.start()
            sampler = Sampler(pids, heap)
            own_before, pg_before = cpu_seconds(pids()), cpu_seconds(postgres_pids())
            jit_before = jit(name)
            r = wrk(script or default_script, url, dict(extra_env, TOKENS=tokens), args, duration)
            own_after, pg_after = cpu_seconds(pids()), cpu_seconds(postgres_pids())
            r["cpu"] = cpu_used(own_before, own_after) * 1000 / max(r["ok"], 1)
            r["pg_cpu"] = cpu_used(pg_before, pg_after) * 1000 / max(r["ok"], 1)
            r["rss"], r["heap"] = sampler.finish()
            jit_after = jit(name)
            r["jit"] = jit_after - jit_before if None not in (jit_before, jit_after) else None
            compiled = "  JIT %4.1f s" % r["jit"] if r["jit"] is not None else ""
            results.setdefault((kind, label, name), []).append(r)
            log("  %-4s %-8s %-13s %8.1f req/s  p50 %7.1f ms  p99 %7.1f ms  CPU ms/req: own %5.2f PostgreSQL %4.2f "
                "wrk %5.2f  RSS %5.0f MiB%s" % (kind, label, name, r["rps"], r["p50"], r["p99"], r["cpu"], r["pg_cpu"],
                                                r["wrk_cpu"], r["rss"] / 2 ** 20, compiled))
            if profile:
                text = profile.finish()
                profiles.append("%s %s, %s (%s, round 1):\n%s" % (kind, label, name, args.profile, text))
                log(profiles[-1])

        order = ["avatar-server", "nginx"]

        def warm_up(name, envs, script=None):
            """Unmeasured load. The server's goes on, past --warmup, until its JIT compilers settle: on
            2 cores they still took 30-50 % of a core 60 s into a run, and each measured round ran
            faster than the one before (200, 261, 290 req/s at 256 KiB). A long-running server is
            measured in its steady state."""
            default_script, url = targets[name][:2]
            spent = 0
            while True:
                before = jit(name)
                env = envs[(spent // STEP) % len(envs)]
                r = wrk(script or default_script, url, dict(env, TOKENS=tokens),
                        argparse.Namespace(connections=args.connections, duration=STEP))
                spent += STEP
                after = jit(name)
                busy = "; JIT compilers busy %.1f s of the last %d s" % (after - before, STEP) if None not in (before, after) else ""
                log("  %s warm-up %3d s: %7.1f req/s (%s)%s" % (name, spent, r["rps"],
                                                               os.path.basename(env.get("IMAGE", "")), busy))
                settled = None in (before, after) or after - before <= JIT_SETTLED * STEP
                if spent >= args.warmup and settled:
                    return
                if spent >= args.warmup_max:
                    log("  the JIT had not settled after %d s; measuring anyway" % spent)
                    return

        if args.cold_seconds > 0:
            # The first seconds of load after a cold start, before any warm-up: what a short wrk run against
            # a freshly started server measures. Both are fresh; the server goes first, as it was started first.
            cold_label = wanted[args.cold_size]
            log("cold start: the first %d s of %s PUTs on each" % (args.cold_seconds, cold_label))
            for name in order:
                measure("cold", cold_label, name, {"IMAGE": images[cold_label]}, duration=args.cold_seconds)
        check_stored(tokens, images)
        log("warming up: nginx %d s, the server at least %d s and until its JIT settles" % (args.warmup, args.warmup))
        put_envs = [{"IMAGE": images[label]} for label, _ in run_sizes] or [{"IMAGE": images[SIZES[1][0]]}]
        for name in order:
            warm_up(name, put_envs)
        for label, size in run_sizes:
            for rnd in range(args.rounds):
                for name in (order if rnd % 2 == 0 else order[::-1]):
                    measure("PUT", label, name, {"IMAGE": images[label]})

        if args.no_get:
            print_table(results, dict(SIZES), args, profiles)
            return
        # GET: the same 256 KiB file from both, every user's avatar on the server, FILES copies in nginx.
        label = SIZES[0][0]
        body = open(images[label], "rb").read()
        for line in open(tokens):
            uid, token = line.split()
            req = urllib.request.Request("http://127.0.0.1:%d/users/%s/avatar" % (SERVER_PORT, uid), data=body,
                                         method="PUT", headers={"Authorization": "Bearer " + token,
                                                                "Content-Type": "image/png"})
            urllib.request.urlopen(req).read()
        for i in range(USERS):
            shutil.copy(images[label], os.path.join(nginx_dir, "root", "files", "%d.img" % i))
        get_server = {"IMAGE": images[label], "READ_PERCENT": "100"}
        get_nginx = {"IMAGE": images[label], "METHOD": "GET", "FILES": str(USERS)}
        warm_up("avatar-server", [get_server], script="src/load/wrk/mixed.lua")
        warm_up("nginx", [get_nginx])
        for rnd in range(args.rounds):
            for name in (order if rnd % 2 == 0 else order[::-1]):
                if name == "avatar-server":
                    measure("GET", label, name, get_server, script="src/load/wrk/mixed.lua")
                else:
                    measure("GET", label, name, get_nginx)

        print_table(results, dict(SIZES), args, profiles)
    finally:
        server.send_signal(signal.SIGTERM)
        nginx.send_signal(signal.SIGQUIT)
        server.wait(60)
        nginx.wait(60)
        if sys.exc_info()[0] is None:
            kept = [f for f in os.listdir(work) if f.endswith((".perf.data", ".jfr"))]
            if kept:
                # The recordings outlive the run, for a closer look (perf report -i, with /tmp/perf-PID.map).
                keep = tempfile.mkdtemp(prefix="avatar-bench-profiles-", dir="/var/tmp")
                for f in kept:
                    shutil.move(os.path.join(work, f), keep)
                log("recordings kept in " + keep)
            shutil.rmtree(work, ignore_errors=True)


def server_settings(data_dir):
    return {
        "http": {"host": "127.0.0.1", "port": SERVER_PORT},
        "storage": {"dataDir": data_dir},
        "database": {"url": "postgresql://postgres@127.0.0.1:5432/avatar_bench"},
        "auth": {"jwtSecret": SECRET},
        # A load test is many writes per user: the per-user and per-address rates are lifted.
        "limits": {"userWritesPerMinute": 0, "addressWritesPerSecond": 0, "maxUploadsPerUser": 0},
    }


def start_nginx(nginx_dir):
    """nginx serving WebDAV PUT under /dav/ and static files under /files/ from nginx_dir."""
    for d in ("root/dav", "root/files", "tmp", "logs"):
        os.makedirs(os.path.join(nginx_dir, d))
    with open(os.path.join(nginx_dir, "nginx.conf"), "w") as f:
        f.write("""
user root;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_max_body_size 11m;
  client_body_temp_path %(d)s/tmp;
  server {
    listen 127.0.0.1:%(port)d;
    root %(d)s/root;
    location /dav/ { dav_methods PUT; create_full_put_path on; }
    location /files/ { }
  }
}
""" % {"d": nginx_dir, "port": NGINX_PORT})
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx_bin, "-p", nginx_dir, "-c", os.path.join(nginx_dir, "nginx.conf"),
                              "-g", "daemon off;"])


def cold_ab(args, label):
    """Cold starts of several server variants side by side: each round starts the server once per variant
    (fresh database and data directory, variants in rotated order), measures the first --cold-seconds of
    --cold-size PUTs on it, then the same load on nginx; prints per variant the medians over rounds of
    req/s, the ratio to the nginx run of the same round, p99, CPU per request, JIT seconds and the seconds
    from the process start to ready."""
    ensure_tools()
    ensure_free(SERVER_PORT)
    ensure_free(NGINX_PORT)
    variants = []
    for spec in args.cold_ab:
        name, _, options = spec.partition("=")
        variants.append((name, options.split()))
    # Options of the form AVATAR_…=value are environment variables (settings), the others JVM options.
    settings = lambda options: dict(o.split("=", 1) for o in options if o.startswith("AVATAR_"))
    jvm_options = lambda options: [o for o in options if not o.startswith("AVATAR_")]
    work = tempfile.mkdtemp(prefix="avatar-bench-cold-", dir="/var/tmp")
    log("work directory " + work)
    size = dict(SIZES)[label]
    image = os.path.join(work, "body-%d.png" % size)
    with open(image, "wb") as f:
        f.write(png(size, size))
    nginx_dir = os.path.join(work, "nginx")
    nginx = start_nginx(nginx_dir)
    rows = collections.defaultdict(list)
    try:
        for rnd in range(args.cold_rounds):
            shift = rnd % len(variants)
            for name, options in variants[shift:] + variants[:shift]:
                ensure_postgres()
                data = os.path.join(work, "server-%d-%s" % (rnd, name))
                config = os.path.join(work, "server-%d-%s.json" % (rnd, name))
                with open(config, "w") as f:
                    json.dump(merge(server_settings(data), json.loads(args.server_config)), f)
                env = dict(os.environ, AVATAR_CONFIG=config, AVATAR_LOG_LEVEL="WARN", **settings(options))
                jvm = ["java", "-Xmx" + args.xmx] + os.environ.get("BENCH_SERVER_JVM_ARGS", "").split() + jvm_options(options)
                started = time.time()
                with open(os.path.join(work, "server-%d-%s.log" % (rnd, name)), "w") as out:
                    server = subprocess.Popen(jvm + ["-jar", args.jar], cwd=ROOT, env=env, stdout=out,
                                              stderr=subprocess.STDOUT)
                try:
                    await_ready(server, name)
                    ready = time.time() - started
                    tokens = os.path.join(work, "tokens-%d-%s.txt" % (rnd, name))
                    run(["java", "-jar", args.jar, "users", "create", "--count", str(USERS), "--tokens", tokens,
                         "--url", "http://127.0.0.1:%d" % SERVER_PORT], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
                    own_before, pg_before = cpu_seconds([server.pid]), cpu_seconds(postgres_pids())
                    jit_before = jit_seconds(server.pid)
                    r = wrk("src/load/wrk/upload.lua", "http://127.0.0.1:%d" % SERVER_PORT,
                            {"IMAGE": image, "TOKENS": tokens}, args, args.cold_seconds)
                    own_after, pg_after = cpu_seconds([server.pid]), cpu_seconds(postgres_pids())
                    jit_after = jit_seconds(server.pid)
                    r["cpu"] = cpu_used(own_before, own_after) * 1000 / max(r["ok"], 1)
                    r["pg_cpu"] = cpu_used(pg_before, pg_after) * 1000 / max(r["ok"], 1)
                    r["jit"] = jit_after - jit_before if None not in (jit_before, jit_after) else None
                    r["ready"] = ready
                finally:
                    server.send_signal(signal.SIGTERM)
                    server.wait(60)
                base = wrk("src/load/wrk/nginx-dav.lua", "http://127.0.0.1:%d" % NGINX_PORT,
                           {"IMAGE": image, "TOKENS": tokens}, args, args.cold_seconds)
                r["nginx"] = base["rps"]
                r["ratio"] = r["rps"] / base["rps"]
                r["p99_ratio"] = r["p99"] / base["p99"]
                rows[name].append(r)
                log("  round %d %-10s ready %4.1f s  %7.1f req/s  nginx %7.1f  ratio %.2f  p99 %6.1f ms  CPU ms/req %5.2f "
                    "PostgreSQL %4.2f  JIT %s s" % (rnd + 1, name, ready, r["rps"], base["rps"], r["ratio"], r["p99"],
                                                    r["cpu"], r["pg_cpu"], "%.1f" % r["jit"] if r["jit"] is not None
                                                    else "?"))
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(60)
    med = lambda name, key: statistics.median(r[key] for r in rows[name] if r[key] is not None)
    print()
    print("Cold starts: the first %d s of %s PUTs (wrk -t2 -c%d) after each start; %d rounds, variants in rotated "
          "order, nginx measured right after each; medians. Load average at the end: %s"
          % (args.cold_seconds, label, args.connections, args.cold_rounds, " ".join(open("/proc/loadavg").read().split()[:3])))
    print()
    print("| variant | JVM options | ready s | req/s | nginx req/s | req/s vs nginx | p99 ms | p99 vs nginx "
          "| CPU ms/req | PostgreSQL ms/req | JIT s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, options in variants:
        print("| %s | %s | %.1f | %.0f | %.0f | %.2f× | %.0f | %.2f× | %.2f | %.2f | %.1f |" % (
            name, " ".join(options) or "–", med(name, "ready"), med(name, "rps"), med(name, "nginx"),
            med(name, "ratio"), med(name, "p99"), med(name, "p99_ratio"), med(name, "cpu"), med(name, "pg_cpu"),
            med(name, "jit") if any(r["jit"] is not None for r in rows[name]) else float("nan")))
    shutil.rmtree(work, ignore_errors=True)


def print_table(results, sizes, args, profiles=()):
    def med(rows, key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    print()
    print("wrk -t2 -c%d, %d s per run, %d rounds interleaved; medians. Server: -Xmx%s, PostgreSQL; nginx: 2 workers."
          % (args.connections, args.duration, args.rounds, args.xmx))
    print("'cold': the first %d s of load after the start, before any warm-up (one run each)." % args.cold_seconds)
    print()
    print("CPU ms/req: the target's own processes; PostgreSQL's beside them (all its processes, so background work "
          "counts too); per MiB: the target's and PostgreSQL's together per MiB uploaded; wrk: the load generator's, "
          "same machine. JIT: seconds the server's compilers worked during the run.")
    print()
    print("| load | target | req/s | MB/s | p50 ms | p99 ms | RSS peak MiB | heap peak MiB | CPU ms/req | PostgreSQL "
          "ms/req | CPU ms per MiB, with PostgreSQL | wrk CPU ms/req | JIT s | req/s vs nginx | p99 vs nginx |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    kinds = {"cold": 0, "PUT": 1, "GET": 2}
    for (kind, label) in sorted({(k, l) for (k, l, _) in results}, key=lambda kl: (kinds[kl[0]], sizes[kl[1]])):
        base = results.get((kind, label, "nginx"))
        for name in ("avatar-server", "nginx"):
            rows = results.get((kind, label, name))
            if not rows:
                continue
            rps = med(rows, "rps")
            mbs = rps * sizes[label] / 1e6
            ratio = rps / med(base, "rps") if base and med(base, "rps") else float("nan")
            p99_ratio = med(rows, "p99") / med(base, "p99") if base and med(base, "p99") else float("nan")
            heap = "%.0f" % (max(r["heap"] for r in rows) / 2 ** 20) if name == "avatar-server" else "–"
            per_mib = "%.2f" % (med(rows, "cpu") + med(rows, "pg_cpu")) if kind == "GET" else \
                "%.2f" % ((med(rows, "cpu") + med(rows, "pg_cpu")) * 2 ** 20 / sizes[label])
            jit = "%.1f" % med(rows, "jit") if name == "avatar-server" and any(r.get("jit") is not None for r in rows) else "–"
            print("| %s %s | %s | %.0f | %.1f | %.1f | %.1f | %.0f | %s | %.2f | %.2f | %s | %.2f | %s | %s | %s |" % (
                kind, label, name, rps, mbs, med(rows, "p50"), med(rows, "p99"),
                max(r["rss"] for r in rows) / 2 ** 20, heap, med(rows, "cpu"), med(rows, "pg_cpu"),
                per_mib if kind != "GET" else "–", med(rows, "wrk_cpu"), jit,
                "%.2f×" % ratio if name != "nginx" else "1", "%.2f×" % p99_ratio if name != "nginx" else "1"))
    for text in profiles:
        print()
        print("Profile of " + text)


if __name__ == "__main__":
    main()
