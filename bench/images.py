#!/usr/bin/env python3
"""Image benchmarks: pull + materialise against the baseline tools, side by side in one run.

  pull    `cleanroom image pull` of a ~300 MB image (three layers: incompressible data, many small files,
          compressible text) from a local docker-registry, with a fresh image store each run, against
          `skopeo copy` + `umoci unpack` + `mkfs.ext4 -d` of the same image from the same registry
  warm    the cached image -> ready rootfs: `image pull` of the pinned ref again (store hit, nothing fetched),
          and `sandbox create` from it against `sandbox create` of the built-in image

Usage: bench/images.py [pull|warm|all] [-n RUNS] [--mib 300]
Runs its own registry and daemon on private ports/sockets; leaves nothing behind. Needs root.
"""
import argparse, gzip, hashlib, io, json, os, random, shutil, socket, statistics, subprocess, sys, tarfile, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Daemon, fmt  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """Debian's docker-registry on 127.0.0.1, storage in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cr-bench-reg-")
        self.host = "127.0.0.1:%d" % free_port()
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\n"
                    "http: {addr: '%s'}\n" % (self.dir, self.host))
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen("http://%s/v2/" % self.host, timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("bench: docker-registry did not start")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def tar_layer(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        add(t)
    return buf.getvalue()


def add_file(t, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 1700000000
    t.addfile(info, io.BytesIO(data))


def add_dir(t, name):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1700000000
    t.addfile(info)


def build_layout(path, mib):
    """An OCI layout with ~mib MiB of content in three gzip layers (deterministic)."""
    rng = random.Random(4242)
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}

    data_mib, small_mib = mib // 2, mib // 10
    text_mib = mib - data_mib - small_mib

    def incompressible(t):
        add_dir(t, "data")
        for i in range(data_mib // 5):
            add_file(t, "data/blob%03d.bin" % i, rng.randbytes(5 << 20))

    def small_files(t):
        add_dir(t, "src")
        for d in range(50):
            add_dir(t, "src/pkg%02d" % d)
            for i in range(small_mib * 1024 // 4 // 50):
                add_file(t, "src/pkg%02d/file%04d.txt" % (d, i), ("line %d of %d\n" % (i, d)).encode() * 400)

    def text(t):
        words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(2000)]
        add_dir(t, "docs")
        for i in range(text_mib // 10):
            out = io.BytesIO()
            while out.tell() < (10 << 20):
                out.write(b" ".join(rng.choice(words) for _ in range(16)) + b"\n")
            add_file(t, "docs/text%02d.txt" % i, out.getvalue())

    layers, diff_ids = [], []
    for add in (incompressible, small_files, text):
        raw = tar_layer(add)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **put(gzip.compress(raw, 6, mtime=0))})
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", **put(json.dumps(config).encode())}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}
    man = put(json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **man,
                                                 "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return sum(l["size"] for l in layers), man["digest"]


def run(*argv, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        sys.exit("bench: %s failed: %s" % (" ".join(argv), r.stderr.decode(errors="replace")[-2000:]))
    return r.stdout.decode()


def baseline_once(ref, work):
    """skopeo copy (download + verify) + umoci unpack (apply) + mkfs.ext4 -d, as root."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    t0 = time.perf_counter()
    run("skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://" + ref, "oci:%s/layout:img" % work)
    t1 = time.perf_counter()
    run("umoci", "unpack", "--image", "%s/layout:img" % work, "%s/bundle" % work)
    t2 = time.perf_counter()
    rootfs = os.path.join(work, "bundle", "rootfs")
    used = int(run("du", "-sb", rootfs).split()[0])
    size = max(512 << 20, used * 3 // 2 + (128 << 20))
    size = (size + (4 << 20) - 1) // (4 << 20) * (4 << 20)
    run("mkfs.ext4", "-q", "-F", "-m", "0", "-d", rootfs, os.path.join(work, "root.ext4"), "%dk" % (size // 1024))
    t3 = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)
    return t3 - t0, (t1 - t0, t2 - t1, t3 - t2)


def ours_once(ref):
    """`cleanroom image pull` into a fresh image store (a fresh daemon state dir)."""
    d = Daemon()
    try:
        t0 = time.perf_counter()
        out = d.cli("image", "pull", ref).stdout.decode()
        elapsed = time.perf_counter() - t0
        assert "pulled image" in out, out
        return elapsed
    finally:
        d.close()


def bench_pull(ref, n):
    work = tempfile.mkdtemp(prefix="cr-bench-base-")
    base, ours, parts = [], [], []
    try:
        for _ in range(n):  # interleaved, so drift hits both sides alike
            b, p = baseline_once(ref, work)
            base.append(b)
            parts.append(p)
            ours.append(ours_once(ref))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mb = statistics.median
    print("pull+materialise  skopeo+umoci+mkfs  %s  (copy %.2f, unpack %.2f, mkfs %.2f)" % (
        fmt(base), mb(p[0] for p in parts), mb(p[1] for p in parts), mb(p[2] for p in parts)))
    print("pull+materialise  cleanroom          %s" % fmt(ours))
    print("ratio (median)    %.2fx  (target <= 1.10x)" % (mb(ours) / mb(base)))


def bench_warm(ref, n):
    d = Daemon()
    try:
        d.cli("image", "pull", ref)
        pinned = d.cli("image", "resolve", ref).stdout.decode().strip()
        hits = []
        for _ in range(n):
            t0 = time.perf_counter()
            out = d.cli("image", "pull", pinned).stdout.decode()
            hits.append(time.perf_counter() - t0)
            assert "cached image" in out, out
        img, builtin = [], []
        for _ in range(n):
            for target, image in ((img, pinned), (builtin, None)):
                args = ["sandbox", "create"] + (["--image", image] if image else [])
                t0 = time.perf_counter()
                sid = d.cli(*args).stdout.decode().strip()
                target.append(time.perf_counter() - t0)
                d.cli("sandbox", "rm", sid)
        print("warm image pull (store hit)        %s" % fmt(hits))
        print("sandbox create, cached OCI image   %s" % fmt(img))
        print("sandbox create, built-in image     %s  (baseline: no image store involved)" % fmt(builtin))
    finally:
        d.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="all", choices=["pull", "warm", "all"])
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--mib", type=int, default=300)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (umoci unpack and the daemon need it)")
    reg = Registry()
    tmp = tempfile.mkdtemp(prefix="cr-bench-img-")
    try:
        compressed, digest = build_layout(os.path.join(tmp, "layout"), a.mib)
        ref = reg.host + "/bench/image:latest"
        run("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:%s/layout:bench" % tmp, "docker://" + ref)
        print("image: %s (%d MiB content, %.0f MiB compressed, manifest %s)" % (ref, a.mib, compressed / 2**20, digest[:19]))
        if a.what in ("pull", "all"):
            bench_pull(ref, a.n)
        if a.what in ("warm", "all"):
            bench_warm(ref, a.n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        reg.close()


if __name__ == "__main__":
    main()
