#!/usr/bin/env python3
"""What the ./cleanroom wrapper adds to a call, measured against the binary it runs, in the same run.

  `./cleanroom version` against `.build/bin/cleanroom version`, both talking to the same daemon, in alternating
  order, N runs each; p50/p90 of both and their difference. `version` makes one RPC and starts no VM.

Usage: bench/wrapper.py [-n RUNS]
Needs a set-up checkout (.build/bin/cleanroom, no source changed since the last setup). If no daemon answers, the
first (untimed) wrapper call starts one, as any ./cleanroom call would; it keeps running afterwards.
"""
import argparse, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, ".build")
CLI = os.path.join(BUILD, "bin", "cleanroom")
WRAPPER = os.path.join(ROOT, "cleanroom")
SETUP_OK = os.path.join(BUILD, ".setup-ok")


def socket_path():
    """The socket the wrapper picks (same order as in ./cleanroom); both sides get it, so they reach one daemon."""
    if os.environ.get("CLEANROOM_SOCKET"):
        return os.environ["CLEANROOM_SOCKET"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "cleanroom", "cleanroom.sock")
    if os.geteuid() == 0:
        return "/run/cleanroom/cleanroom.sock"
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", f"cleanroom-{os.geteuid()}", "cleanroom.sock")


def changed_since_setup():
    """The first file the wrapper would rebuild for (its check, in Python), or None: a timed run must not set up."""
    if not (os.path.isfile(SETUP_OK) and os.path.isfile(os.path.join(BUILD, "assets", "assets.json"))):
        return SETUP_OK + " or .build/assets/assets.json (no finished setup)"
    stamp = os.stat(SETUP_OK).st_mtime_ns
    for top in ("src", "scripts"):
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [x for x in dirs if x not in ("bin", "obj")]
            for f in files:
                p = os.path.join(d, f)
                if f not in ("bin", "obj") and os.lstat(p).st_mtime_ns > stamp:
                    return p
    for f in os.listdir(ROOT):
        if (f.startswith("Directory.") and f.endswith((".props", ".targets"))) or f in ("global.json", "cleanroom"):
            if os.stat(os.path.join(ROOT, f)).st_mtime_ns > stamp:
                return os.path.join(ROOT, f)
    return None


def run(argv, env):
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {r.returncode}: {r.stderr.decode(errors='replace').strip()}")
    return elapsed, r.stdout.decode(errors="replace")


def daemon_lines(out):
    """The lines that identify the daemon that answered (none when it did not)."""
    return [l for l in out.splitlines() if l.startswith(("daemon version", "endpoint:"))]


def pct(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30, help="timed runs of each side (default 30)")
    a = ap.parse_args()
    if a.n < 2:
        sys.exit("bench: -n must be at least 2")
    if not os.access(CLI, os.X_OK):
        sys.exit(f"bench: {CLI} is missing: set the checkout up first (./cleanroom version, or scripts/setup.sh)")
    changed = changed_since_setup()
    if changed:
        sys.exit(f"bench: the wrapper would run setup first ({changed} is newer than the last setup); "
                 "run ./cleanroom version once, then rerun")

    env = dict(os.environ, CLEANROOM_SOCKET=socket_path())
    env.pop("CLEANROOM_HOST", None)  # it would win over CLEANROOM_SOCKET in the client but not in the wrapper's probe
    direct, wrapped = [CLI, "version"], [WRAPPER, "version"]

    # Untimed: the wrapper starts a daemon if none answers; then both sides must report the same one.
    if not daemon_lines(run(direct, env)[1]):
        print(f"bench: no daemon answered on {env['CLEANROOM_SOCKET']}; the first ./cleanroom call starts one", file=sys.stderr)
    seen_wrapped, seen_direct = daemon_lines(run(wrapped, env)[1]), daemon_lines(run(direct, env)[1])
    if not seen_direct or seen_wrapped != seen_direct:
        sys.exit(f"bench: the two sides did not reach the same daemon: {seen_wrapped} vs {seen_direct}")

    times = {"direct": [], "wrapped": []}
    for i in range(a.n):
        order = [("direct", direct), ("wrapped", wrapped)]
        for name, argv in order if i % 2 == 0 else reversed(order):
            times[name].append(run(argv, env)[0])
    diffs = [w - d for w, d in zip(times["wrapped"], times["direct"])]

    print(f"== wrapper: `version` against the daemon at {env['CLEANROOM_SOCKET']} ({a.n} runs each, alternating)")
    for label, key in ((".build/bin/cleanroom version", "direct"), ("./cleanroom version", "wrapped")):
        v = times[key]
        print(f"  {label:32} p50 {pct(v, 50):7.1f} ms  p90 {pct(v, 90):7.1f} ms")
    print(f"  {'wrapper adds':32} p50 {pct(times['wrapped'], 50) - pct(times['direct'], 50):+7.1f} ms  "
          f"p90 {pct(times['wrapped'], 90) - pct(times['direct'], 90):+7.1f} ms  "
          f"(per-run pairs: p50 {pct(diffs, 50):+.1f} ms)")


if __name__ == "__main__":
    main()
