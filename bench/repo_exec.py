#!/usr/bin/env python3
"""Repository-aware exec benchmark: what `cleanroom exec` in a git repository costs, measured through the installed
CLI and a private daemon, side by side in one run.

  bare    `cleanroom exec -- sh -c 'echo ready'` outside any repository (no workspace disk)
  warm    the same exec inside the repository at a commit the daemon has seen (image cached: a lookup)
  cold    the same exec after a new commit (amended, so the tree is the same size): the daemon builds the
          commit's image (shallow .git, blobs written straight into ext4); the image is flushed to disk in the
          background, and what of that flush is left when the exec has printed is timed apart (`sync`)
  floor   `git archive COMMIT | tar -x` of the same commit on the host: the least any cold path must do
  copy-out  `cleanroom workspace copy-out ID` of N changed files a guest wrote in /workspace, beside
          `tar -x` of the same files on the host

Every figure is time to the command's first output byte (the sandbox's teardown is not counted). Rounds interleave
bare, warm and cold so load drift hits all of them. Usage:
  bench/repo_exec.py [-n FILES] [--size MB] [--rounds N] [--changed N]
Defaults are issue 10's: 50,000 files, 500 MB, 3 rounds, 10,000 changed files. Leaves nothing behind.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import CLI, Daemon  # noqa: E402  (the same private daemon bench.py uses)
from workspace import GIT, generate  # noqa: E402

PROBE = ["sh", "-c", "echo ready"]


def first_byte(d, cwd, *args):
    """Seconds from spawning `cleanroom args` in cwd to its first stdout byte; waits for its exit."""
    t0 = time.perf_counter()
    p = subprocess.Popen([CLI, *args], env=d.env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    p.stdout.read(1)
    took = time.perf_counter() - t0
    _, err = p.communicate()
    if p.returncode != 0:
        sys.exit(f"bench: cleanroom {' '.join(args)} exited {p.returncode}: {err.decode(errors='replace')}")
    return took


def timed_shell(command):
    t0 = time.perf_counter()
    subprocess.run(command, shell=True, check=True)
    return time.perf_counter() - t0


def fmt(values):
    values = sorted(values)
    return f"p50 {statistics.median(values)*1000:8.0f} ms  best {values[0]*1000:8.0f} ms  ({len(values)} runs)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--size", type=int, default=500, help="MB of file content")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--changed", type=int, default=10_000, help="files a guest changes for the copy-out figure")
    a = ap.parse_args()

    scratch = tempfile.mkdtemp(prefix="cr-bench-repo-")
    outside = os.path.join(scratch, "outside")
    os.makedirs(outside)
    repo = os.path.join(scratch, "repo")
    t0 = time.perf_counter()
    commit = generate(repo, a.n, a.size << 20)
    print(f"repository: {a.n} files, {a.size} MB (generated in {time.perf_counter()-t0:.0f} s)")
    d = Daemon()
    try:
        bare, warm, cold, floor = [], [], [], []
        first_byte(d, outside, "exec", "--", *PROBE)  # the accelerator probe and page cache, before any figure
        first_byte(d, repo, "exec", "--", *PROBE)     # the first image of this commit: warm from here on
        settle = []
        for r in range(a.rounds):
            # Each round starts with nothing left to write back (the last round's floor, the last cold image's
            # background flush), so that I/O does not fall on one figure and not the other; the flush a cold build
            # leaves behind is timed on its own below.
            os.sync()
            bare.append(first_byte(d, outside, "exec", "--", *PROBE))
            warm.append(first_byte(d, repo, "exec", "--", *PROBE))
            subprocess.run(GIT + ["-C", repo, "commit", "-q", "--amend", "-m", f"bench round {r}"], check=True)
            cold.append(first_byte(d, repo, "exec", "--", *PROBE))
            t0 = time.perf_counter()
            os.sync()
            settle.append(time.perf_counter() - t0)
            head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
            target = os.path.join(scratch, "floor")
            os.makedirs(target)
            floor.append(timed_shell(f"git -C '{repo}' archive {head} | tar -x -C '{target}'"))
            shutil.rmtree(target)
        print(f"  exec, no repository           {fmt(bare)}")
        print(f"  exec, warm (image cached)     {fmt(warm)}   adds {(statistics.median(warm)-statistics.median(bare))*1000:+.0f} ms")
        print(f"  exec, cold (new commit)       {fmt(cold)}   adds {(statistics.median(cold)-statistics.median(bare))*1000:+.0f} ms")
        print(f"  floor: git archive | tar -x   {fmt(floor)}")
        print(f"  after cold: sync (the image's background flush still to do)  {fmt(settle)}")
        print(f"  cold extra / floor            {(statistics.median(cold)-statistics.median(bare))/statistics.median(floor):.2f}x")

        # Copy-out: a kept sandbox writes N files into /workspace/out; the host copies them back.
        sandbox = subprocess.run([CLI, "sandbox", "create"], env=d.env, cwd=repo, check=True, capture_output=True, text=True).stdout.strip()
        script = f"mkdir -p out && i=0; while [ $i -lt {a.changed} ]; do echo \"changed $i\" > out/f$i.txt; i=$((i+1)); done"
        subprocess.run([CLI, "exec", "--in", sandbox, "--", "sh", "-c", script], env=d.env, check=True, capture_output=True)
        t0 = time.perf_counter()
        r = subprocess.run([CLI, "workspace", "copy-out", sandbox], env=d.env, cwd=repo, capture_output=True, text=True)
        copy_out = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit("bench: copy-out failed: " + r.stderr)
        subprocess.run([CLI, "sandbox", "rm", sandbox], env=d.env, check=True, capture_output=True)
        tarball = os.path.join(scratch, "out.tar")
        subprocess.run(["tar", "-cf", tarball, "-C", repo, "out"], check=True)
        target = os.path.join(scratch, "untar")
        os.makedirs(target)
        host_untar = timed_shell(f"tar -xf '{tarball}' -C '{target}'")
        print(f"  copy-out of {a.changed} files      {copy_out*1000:8.0f} ms   (host tar -x of the same files {host_untar*1000:.0f} ms)")
    finally:
        d.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
