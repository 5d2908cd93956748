#!/usr/bin/env python3
"""Workspace image benchmark: a commit's tree -> a cached read-only ext4 image, beside the host floor, in one run.

  floor   `git archive COMMIT | tar -x -C DIR` on the host (the tree alone, no .git, no image)
  cold    WorkspaceImageStore.EnsureAsync on an empty store: scan, shallow .git, the blobs written straight into
          the ext4 image, rename; staging (the .git only) in the store (disk) and in a tmpfs directory (memory
          staging); and, beside it, the slower way the store keeps for trees git converts on checkout (a git
          checkout into the staging directory, then mkfs.ext4 -d)
  warm    EnsureAsync again on the same commit: in the same process (the store's own cost) and in a new process
          given the full commit id (process start + JIT + a stat; no git runs)

Usage: bench/workspace.py [-n FILES] [--size MB] [--runs N] [--loose]
Generates its repository (incompressible files in nested directories) in a temp dir and packs it, as a cloned
repository is (--loose keeps every object loose, as right after `git add` of everything: then the copy's pack is
written by re-deflating each object, which costs seconds per 5,000 objects here); leaves nothing behind.
Prints figures only; the targets are in issue 10 (warm under 100 ms, cold within 1.2x the floor plus transfer).
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = os.path.join(ROOT, "bench", "WorkspaceBench")
TOOL = os.path.join(PROJECT, "bin", "Release", "net10.0", "WorkspaceBench")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


def generate(repo, files, total_bytes, loose=False):
    """files files of total_bytes in all, 100 per directory, two levels deep; one commit."""
    os.makedirs(repo)
    subprocess.run(GIT + ["init", "-q", repo], check=True)
    per = max(1, total_bytes // files)
    for i in range(files):
        d = os.path.join(repo, "d%03d" % (i // 10000), "s%03d" % ((i // 100) % 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%06d.bin" % i), "wb") as f:
            f.write(os.urandom(per))
    subprocess.run(GIT + ["-C", repo, "add", "-A"], check=True)
    subprocess.run(GIT + ["-C", repo, "commit", "-q", "-m", "bench"], check=True)
    if not loose:
        subprocess.run(GIT + ["-C", repo, "repack", "-adq"], check=True)
    return subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def timed(argv, **kw):
    start = time.monotonic()
    out = subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout
    return time.monotonic() - start, out


def floor(repo, commit, scratch):
    target = os.path.join(scratch, "floor")
    os.makedirs(target)
    start = time.monotonic()
    subprocess.run("git -C '%s' archive %s | tar -x -C '%s'" % (repo, commit, target), shell=True, check=True)
    took = time.monotonic() - start
    shutil.rmtree(target)
    return took


def ensure(store, repo, commitish, calls, memory=None, checkout_with_git=False):
    env = dict(os.environ, CLEANROOM_BENCH_CHECKOUT_WITH_GIT="1" if checkout_with_git else "0")
    took, out = timed([TOOL, store, repo, commitish, str(calls)] + ([memory] if memory else []), env=env)
    return took, [json.loads(line) for line in out.splitlines()]


def fmt(values):
    return "%.3f s" % values[0] if len(values) == 1 else "median %.3f s (min %.3f, max %.3f)" % (
        statistics.median(values), min(values), max(values))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--files", type=int, default=50000)
    p.add_argument("--size", type=int, default=500, help="total MB of file content")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--loose", action="store_true", help="leave the objects loose instead of packing them")
    a = p.parse_args()
    subprocess.run(["dotnet", "build", PROJECT, "-c", "Release", "-v", "q", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    scratch = tempfile.mkdtemp(prefix="cr-bench-ws-")
    try:
        repo = os.path.join(scratch, "repo")
        start = time.monotonic()
        commit = generate(repo, a.files, a.size * 1000 * 1000, a.loose)
        print("repository: %d files, %d MB, %s objects, generated in %.1f s; commit %s" % (
            a.files, a.size, "loose" if a.loose else "packed", time.monotonic() - start, commit[:12]))
        floors, colds, cold_inner, cold_memory, cold_git, warm_inner, warm_process, image_mb = [], [], [], [], [], [], [], 0.0
        memory = tempfile.mkdtemp(prefix="cr-bench-ws-", dir="/dev/shm") if os.path.isdir("/dev/shm") else None
        try:
            for run in range(a.runs):
                floors.append(floor(repo, commit, scratch))
                store = os.path.join(scratch, "store%d" % run)
                took, calls = ensure(store, repo, "HEAD", 2)
                assert calls[0]["built"] and not calls[1]["built"]
                colds.append(took)
                cold_inner.append(calls[0]["ms"] / 1000)
                warm_inner.append(calls[1]["ms"] / 1000)
                took, calls = ensure(store, repo, commit, 1)
                warm_process.append(took)
                image_mb = float(subprocess.run(["du", "-sm", calls[0]["path"]], check=True, capture_output=True, text=True).stdout.split()[0])
                shutil.rmtree(store)
                if memory:
                    took, calls = ensure(store, repo, "HEAD", 1, memory)
                    cold_memory.append(calls[0]["ms"] / 1000)
                    shutil.rmtree(store)
                took, calls = ensure(store, repo, "HEAD", 1, memory, checkout_with_git=True)
                cold_git.append(calls[0]["ms"] / 1000)
                shutil.rmtree(store)
        finally:
            if memory:
                shutil.rmtree(memory, ignore_errors=True)
        base = statistics.median(floors)
        print("floor  git archive | tar -x          %s" % fmt(floors))
        print("cold   EnsureAsync, disk staging     %s   = %.2fx floor" % (fmt(cold_inner), statistics.median(cold_inner) / base))
        if cold_memory:
            print("cold   EnsureAsync, memory staging   %s   = %.2fx floor" % (fmt(cold_memory), statistics.median(cold_memory) / base))
        print("cold   git checkout + mkfs.ext4 -d   %s   = %.2fx floor" % (fmt(cold_git), statistics.median(cold_git) / base))
        print("cold   whole tool process (disk)     %s" % fmt(colds))
        print("warm   EnsureAsync (same process)    %s" % fmt(warm_inner))
        print("warm   new process, full commit id   %s" % fmt(warm_process))
        print("image  %.0f MB allocated on disk (sparse)" % image_mb)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
