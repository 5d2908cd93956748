#!/usr/bin/env python3
"""Sandbox networking benchmarks. Each figure is printed beside its baseline, measured in the same run.

  create      cold `sandbox create` + first exec with the network on, against the same daemon build with --network off
  dns         DNS lookups from a guest through the DNS filter, against the same guest asking the upstream directly
  throughput  HTTP download (MiB/s) and sequential connections per second from a policy-filtered guest, against an
              allow-all guest (no filtering beyond the always-blocked ranges), under each --guard-mode (proxy: the
              host terminates and relays the connection; queue: its first packets are held until the Host is
              decided, then the kernel forwards it); one daemon per mode, both sides of each ratio from that daemon

Everything runs in network namespaces this script creates (a "host" where the daemon runs and an "internet" with
dnsmasq and an HTTP server) and removes; no traffic leaves them.

Usage: bench/network.py [create|dns|throughput|all] [-n RUNS] [--guard-mode proxy|queue|both]
(root; needs .build from scripts/setup.sh)
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, ".build", "bin", "cleanroom")
ASSETS = os.path.join(ROOT, ".build", "assets")
DEBIAN = os.path.join(ROOT, ".build", "images", "debian-bookworm.oci.tar")
IMAGE = "debian-bench:bookworm"
WEB, DNS = "10.250.0.2", "10.250.0.53"
SUFFIX = "%06x" % (os.getpid() & 0xFFFFFF)
HOST_NS, NET_NS = "cr-bh-" + SUFFIX, "cr-bn-" + SUFFIX


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def in_ns(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)


class Internet:
    """The two namespaces, dnsmasq for the zone `test`, and an HTTP server with a 64 MiB file."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cr-bench-net-")
        self.procs = []
        for ns in (HOST_NS, NET_NS):
            sh("ip", "netns", "add", ns)
            in_ns(ns, "ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "cr-up", "netns", HOST_NS, "type", "veth", "peer", "name", "cr-down", "netns", NET_NS)
        in_ns(HOST_NS, "ip", "addr", "add", "10.250.0.1/24", "dev", "cr-up")
        in_ns(HOST_NS, "ip", "link", "set", "cr-up", "up")
        for a in (WEB, DNS):
            in_ns(NET_NS, "ip", "addr", "add", a + "/24", "dev", "cr-down")
        in_ns(NET_NS, "ip", "link", "set", "cr-down", "up")
        in_ns(NET_NS, "ip", "route", "add", "default", "via", "10.250.0.1")
        with open(os.path.join(self.dir, "big"), "wb") as f:
            f.write(os.urandom(64 << 20))
        with open(os.path.join(self.dir, "small"), "w") as f:
            f.write("ok\n")
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", NET_NS, "dnsmasq", "--keep-in-foreground", "--no-resolv",
                                            "--no-hosts", "--bind-interfaces", "--listen-address=" + DNS, "--pid-file=",
                                            "--address=/web.test/" + WEB], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", NET_NS, "python3", "-m", "http.server", "80", "--directory",
                                            self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 15
        while ":80 " not in in_ns(NET_NS, "ss", "-ltnH").stdout or ":53 " not in in_ns(NET_NS, "ss", "-lunH").stdout:
            if time.time() > deadline:
                sys.exit("bench: the test internet did not come up")
            time.sleep(0.05)

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for ns in (HOST_NS, NET_NS):
            sh("sh", "-c", f"ip netns pids {ns} | xargs -r kill -9", check=False)
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Daemon:
    """The installed daemon inside the host namespace (nsenter keeps the host's cgroups and /sys)."""

    def __init__(self, network, guard_mode="proxy"):
        self.state = tempfile.mkdtemp(prefix="cr-bench-state-")
        os.chmod(self.state, 0o700)
        self.sock = os.path.join(self.state, "cleanroom.sock")
        self.log = open(os.path.join(self.state, "daemon.log"), "w")
        self.proc = subprocess.Popen(["nsenter", "--net=/run/netns/" + HOST_NS, CLI, "serve", "--listen", self.sock, "--state-dir",
                                      self.state, "--assets", ASSETS, "--network", network, "--dns-upstream", DNS,
                                      "--guard-mode", guard_mode, "--on-stop", "stop"],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit("bench: the daemon did not start; see " + self.log.name)
            time.sleep(0.02)
        self.cli("image", "import", IMAGE, DEBIAN)

    def cli(self, *args):
        r = subprocess.run([CLI, "--host", "unix://" + self.sock, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True)
        if r.returncode != 0:
            sys.exit(f"bench: cleanroom {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def create(self, policy, *flags):
        return self.cli("sandbox", "create", "--image", IMAGE, "--policy", policy, *flags).strip()

    def exec(self, sandbox, script):
        return self.cli("exec", "--in", sandbox, "--no-stdin", "--", "bash", "-c", script)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        shutil.rmtree(self.state, ignore_errors=True)


def write_policy(directory):
    path = os.path.join(directory, "cleanroom.yaml")
    with open(path, "w") as f:
        f.write("version: 1\nrepository:\n  enabled: false\nsandbox:\n  image:\n"
                "    ref: ghcr.io/buildkite/cleanroom-base/debian@sha256:" + "0" * 63 + "1\n"
                "  network:\n    allow:\n      - web.test:80\n      - \"*.web.test:80\"\n")
    return path


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(values):
    return f"p50 {statistics.median(values):7.1f} ms  p90 {pct(values, 90):7.1f} ms  (n={len(values)})"


def bench_create(policy, n):
    results = {}
    for mode in ("on", "off"):
        d = Daemon(mode)
        try:
            times = []
            for _ in range(n):
                t = time.perf_counter()
                # The same policy (no allow rules) on both: what differs is the TAP, the chains and the guest's link.
                sid = d.create(policy.replace("cleanroom.yaml", "nonet.yaml"))
                d.exec(sid, "true")
                times.append((time.perf_counter() - t) * 1000)
                d.cli("sandbox", "rm", sid)
            results[mode] = times
        finally:
            d.close()
    print(f"create+first exec, network on : {ms(results['on'])}")
    print(f"create+first exec, network off: {ms(results['off'])}")
    print(f"  the network adds {statistics.median(results['on']) - statistics.median(results['off']):+.0f} ms at p50")


# Times each lookup inside the guest (one process per lookup on both sides, so only the path differs).
LOOKUPS = r"""for i in $(seq 1 {n}); do s=$(date +%s%N); getent hosts "q$i-{tag}.web.test" >/dev/null || echo FAIL; e=$(date +%s%N); echo $(( (e-s)/1000 )); done"""
DIRECT = r"""cp /etc/resolv.conf /tmp/r; echo nameserver {dns} > /etc/resolv.conf; """ + LOOKUPS + r"""; cp /tmp/r /etc/resolv.conf"""


def bench_dns(d, policy, n):
    filtered = d.create(policy)
    open_box = d.create(policy, "--dangerously-allow-all")
    try:
        through = [int(x) / 1000 for x in d.exec(filtered, LOOKUPS.format(n=n * 10, tag="f")).split() if x.isdigit()]
        direct = [int(x) / 1000 for x in d.exec(open_box, DIRECT.format(n=n * 10, tag="d", dns=DNS)).split() if x.isdigit()]
        allow_all = [int(x) / 1000 for x in d.exec(open_box, LOOKUPS.format(n=n * 10, tag="a")).split() if x.isdigit()]
    finally:
        d.cli("sandbox", "rm", filtered, open_box)
    print(f"DNS through the filter (policy sandbox): {ms(through)}")
    print(f"DNS through the filter (allow-all)     : {ms(allow_all)}")
    print(f"DNS to the upstream directly           : {ms(direct)}")


DOWNLOAD = r"""for i in $(seq 1 {n}); do curl -s -o /dev/null -w '%{{speed_download}}\n' http://web.test/big; done"""
CONNECT = r"""s=$(date +%s%N); for i in $(seq 1 {n}); do curl -s -o /dev/null http://web.test/small; done; e=$(date +%s%N); echo $(( e - s ))"""


def daemon_cpu_seconds(d):
    """CPU time (user + system) of the daemon process, the guard's home: its cost per download is the filter's price."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == d.proc.pid:
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def bench_throughput(d, policy, n, label):
    filtered = d.create(policy)
    open_box = d.create(policy, "--dangerously-allow-all")
    try:
        print(f"guard mode {label}:")
        boxes = (("policy-filtered", filtered), ("allow-all      ", open_box))
        speeds, cpu = {name: [] for name, _ in boxes}, {name: 0.0 for name, _ in boxes}
        # Interleaved, one download of each per round, so drift in the machine's load falls on both sides alike.
        for _ in range(n):
            for name, sid in boxes:
                before = daemon_cpu_seconds(d)
                speeds[name].append(float(d.exec(sid, DOWNLOAD.format(n=1)).strip()) / (1 << 20))
                cpu[name] += daemon_cpu_seconds(d) - before
        rows = []
        for name, sid in boxes:
            rate = 20 * n / (int(d.exec(sid, CONNECT.format(n=20 * n)).strip()) / 1e9)
            rows.append((name, statistics.median(speeds[name]), rate, cpu[name] / n))
        for name, speed, rate, seconds in rows:
            print(f"{name}: download p50 {speed:6.1f} MiB/s (n={n})   daemon CPU {seconds * 1000:6.0f} ms per 64 MiB   "
                  f"sequential connections {rate:5.2f}/s")
        print(f"  filtered / allow-all: download {rows[0][1] / rows[1][1]:.3f}x, connections {rows[0][2] / max(rows[1][2], 1):.3f}x")
    finally:
        d.cli("sandbox", "rm", filtered, open_box)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all", choices=["create", "dns", "throughput", "all"])
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--guard-mode", default="both", choices=["proxy", "queue", "both"])
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces, TAP devices, nftables)")
    for path in (CLI, DEBIAN):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing: run scripts/setup.sh and scripts/build-debian-image.sh {DEBIAN}")
    net = Internet()
    try:
        policy = write_policy(net.dir)
        with open(os.path.join(net.dir, "nonet.yaml"), "w") as f:
            f.write("version: 1\nrepository:\n  enabled: false\nsandbox:\n  image:\n"
                    "    ref: ghcr.io/buildkite/cleanroom-base/debian@sha256:" + "0" * 63 + "1\n")
        if args.what in ("create", "all"):
            bench_create(policy, args.n)
        modes = ["proxy", "queue"] if args.guard_mode == "both" else [args.guard_mode]
        for i, mode in enumerate(modes):
            if args.what == "dns" and i > 0:
                break
            d = Daemon("on", mode)
            try:
                if args.what in ("dns", "all") and i == 0:
                    bench_dns(d, policy, args.n)
                if args.what in ("throughput", "all"):
                    bench_throughput(d, policy, args.n, mode)
            finally:
                d.close()
    finally:
        net.close()


if __name__ == "__main__":
    main()
