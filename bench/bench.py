#!/usr/bin/env python3
"""Cleanroom benchmarks. Each figure is printed beside its baseline, measured in the same run.

  boot        cold `cleanroom exec -- echo` (create -> first output byte, and total with teardown)
              against a raw QEMU boot of the same kernel, initramfs and disk up to the agent's hello
  roundtrip   `cleanroom exec --in ID -- true` on a ready sandbox (process round trip, p50, p99 and the slowest),
              and the same command through the API alone (no CLI process start), measured once the daemon's JIT
              compiler has gone quiet (a long-running daemon's state)
  throughput  guest stdout -> host through the whole path (MiB/s), against `dd` to a bare
              virtio-serial port in an identical VM booted beside the sandbox, and the guest's hops alone (dd
              into a pipe that a small C program, bench/throughput/frame_writer.c, frames into the port as the
              agent does; needs cc); every line runs once per round, each ratio is paired within its round
  density     N idle sandboxes (default 40) kept alive, warm (from a template) and cold: host memory
              (PSS) per sandbox, idle CPU of all of them, `exec --in` round trip and `sandbox ls` with N
              alive against the same with 1 alive, all in this run
  warm        `cleanroom exec -- echo` restored from a VM template (20 in a row by default) against the
              same command booting cold (a daemon with --templates off), both in this run, outside any
              repository, with the daemon's default network; the host
              memory (PSS) of one idle warm and one idle cold sandbox, and the template's own size
  agent-ab    the guest agent of another initramfs (--initrd FILE, e.g. one built from an earlier commit with
              scripts/build-guest-agent.sh and scripts/build-initramfs.sh) against the installed one: two raw VMs
              side by side, N rounds of 50 execs of `true` each through the agent's protocol, interleaved; p50,
              QEMU's CPU and the guest's context switches per exec, and the per-round ratio
  restart     a daemon killed with SIGKILL while N sandboxes (default 10) run: time for the next daemon to
              serve and until every sandbox answers `exec --in` again, against a daemon start with none
              and against creating the N sandboxes anew, all in this run; then with a command streaming
              in each sandbox through the crash: time until every client printed again, and whether each
              got every line exactly once and the command's exit code

Usage: bench/bench.py [boot|roundtrip|throughput|warm|density|restart|agent-ab|all] [-n RUNS] [--sandboxes N] [--initrd FILE]
Runs its own daemon on a private socket and state directory; leaves nothing behind.
"""
import argparse, http.client, json, os, resource, secrets, shutil, signal, socket, statistics, struct, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, ".build", "bin", "cleanroom")
ASSETS = os.path.join(ROOT, ".build", "assets")

HELLO, CLOSE_STDIN, SHUTDOWN, RELEASE = 1, 9, 12, 20
MAGIC = 0x434C524D


def frame(ftype, stream, payload):
    return struct.pack(">IBI", len(payload), ftype, stream) + payload


# The daemon's limits (WireLimits.Daemon): 256 KiB frames, a 4 MiB output window per stream, which it grants back
# once a quarter of it is consumed (ReceiveWindow).
HOST_WINDOW = 4 << 20
HOST_GRANT_EVERY = HOST_WINDOW // 4


def host_hello():
    sw = b"bench"
    return frame(HELLO, 0, struct.pack(">IHQII", MAGIC, 2, secrets.randbits(64), 262144, HOST_WINDOW) + struct.pack(">I", len(sw)) + sw)


def exec_payload(argv):
    """A minimal exec request: argv as a string list, empty env, cwd and user, no tty."""
    return (struct.pack(">I", len(argv)) + b"".join(struct.pack(">I", len(a)) + a for a in argv)
            + struct.pack(">III", 0, 0, 0) + b"\0" + struct.pack(">HH", 0, 0))


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


class Daemon:
    """A private `cleanroom serve` for the benchmark."""

    def __init__(self, templates="off", extra=()):
        self.state = tempfile.mkdtemp(prefix="cr-bench-")
        self.sock = os.path.join(self.state, "cleanroom.sock")
        self.env = dict(os.environ, CLEANROOM_HOST="unix://" + self.sock)
        self.argv = [CLI, "serve", "--listen", self.sock, "--state-dir", self.state, "--assets", ASSETS, "--templates", templates, "--on-stop", "stop", *extra]
        self.start()

    def start(self):
        """Starts `cleanroom serve` and returns once its socket accepts a connection (a killed daemon's socket file stays)."""
        log = open(os.path.join(self.state, "daemon.log"), "a")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not accepts(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit("bench: the daemon did not start; see " + log.name)
            time.sleep(0.005)

    def crash(self):
        """SIGKILL to the daemon and to the `serve` that started it, as a crash or an OOM kill would."""
        children = children_of(self.proc.pid)
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        self.proc.kill()
        self.proc.wait()
        # Gone, not dying: a daemon still in its exit would accept the next start's first connection.
        while any(alive(pid) for pid in children):
            time.sleep(0.001)

    def cli(self, *args, check=True, stdout=subprocess.PIPE):
        # From the daemon's state directory: outside any repository, so no workspace is checked out.
        r = subprocess.run([CLI, *args], env=self.env, stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=self.state)
        if check and r.returncode != 0:
            sys.exit(f"bench: cleanroom {' '.join(args)} failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
        return r

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        # Sandboxes outlive a daemon that did not stop them: never leave one running with its state deleted.
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and self.state.encode() in open(f"/proc/{pid}/cmdline", "rb").read() and b"qemu" in open(f"/proc/{pid}/comm", "rb").read():
                    print(f"bench: killing QEMU {pid} the daemon left running", file=sys.stderr)
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.state, ignore_errors=True)


def children_of(parent):
    """Every thread's children (a task's children file lists only those its own thread started)."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and int(open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()[1]) == parent:
                pids.append(int(pid))
        except (OSError, IndexError):
            pass
    return pids


def alive(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def accepts(path):
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def qemu_argv_of(sandbox_id):
    """The exact argv the daemon used for a sandbox's QEMU, read back from /proc."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
        except OSError:
            continue
        if argv and argv[0].endswith(b"qemu-system-x86_64") and any(sandbox_id.encode() in a for a in argv):
            return [a.decode() for a in argv]
    sys.exit("bench: could not find the sandbox's QEMU process")


def without_network(argv):
    """The sandbox's argv minus its network card: the TAP is a descriptor only the sandbox's QEMU holds. The baseline
    boots without a network, so the ratio includes what the network costs a create."""
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == "-netdev" or (a == "-device" and i + 1 < len(argv) and argv[i + 1].startswith("virtio-net-device")):
            skip = True
            continue
        out.append(" ".join(w for w in a.split(" ") if not w.startswith("cleanroom.net=")) if "cleanroom.net=" in a else a)
    return out


def raw_boot(argv, old_dir, base, extra=()):
    """Boots QEMU with `argv` rewritten to a fresh work dir; returns (seconds to the agent's hello, live VM)."""
    work = tempfile.mkdtemp(prefix="cr-raw-")
    # The daemon serves the console on a socket QEMU waits for (wait=on); the baseline sends it to stdout as raw QEMU
    # use would, drained into /dev/null.
    args = ["stdio,id=console,signal=off" if a.startswith("socket,id=console,") else a.replace(old_dir, work) for a in without_network(argv)] + list(extra)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", os.path.join(work, "root.qcow2")], check=True)
    # The confined daemon keeps sockets and the pid file in run/; the baseline runs the same argv unconfined.
    os.makedirs(os.path.join(work, "run"), exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = next((a.split("path=")[1].split(",")[0] for a in args if "agent.sock" in a and "path=" in a), os.path.join(work, "agent.sock"))
    s = socket.socket(socket.AF_UNIX)
    while True:
        try:
            s.connect(path)
            break
        except OSError:
            if proc.poll() is not None:
                sys.exit("bench: raw QEMU exited")
            time.sleep(0.002)
    s.sendall(host_hello())
    length, ftype, _ = struct.unpack(">IBI", read_exact(s, 9))
    read_exact(s, length)
    elapsed = time.perf_counter() - t0
    if ftype != HELLO:
        sys.exit("bench: raw VM answered with frame type %d" % ftype)
    return elapsed, (proc, s, work)


def stop_raw(vm):
    proc, s, work = vm
    try:
        s.sendall(frame(SHUTDOWN, 0, b""))
        proc.wait(10)
    except Exception:
        proc.kill()
        proc.wait()
    s.close()
    shutil.rmtree(work, ignore_errors=True)


def first_output_time(d, *args, cwd=None):
    """Seconds from spawning `cleanroom args` to its first stdout byte, and to its exit."""
    t0 = time.perf_counter()
    p = subprocess.Popen([CLI, *args], env=d.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=cwd)
    p.stdout.read(1)
    first = time.perf_counter() - t0
    p.communicate()
    total = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: cleanroom {' '.join(args)} exited {p.returncode}")
    return first, total


def fmt(values):
    values = sorted(values)
    return f"best {values[0]*1000:7.0f} ms  p50 {statistics.median(values)*1000:7.0f} ms  ({len(values)} runs)"


def p99(values):
    return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]


def fmt_tail(values):
    """fmt, with the p99 and the slowest run: a stall that hits one run in a hundred shows only there."""
    return f"{fmt(values)}  p99 {p99(values)*1000:.0f} ms  max {max(values)*1000:.0f} ms"


def bench_boot(d, n):
    sid = d.cli("sandbox", "create").stdout.decode().strip()
    argv = qemu_argv_of(sid)
    old_dir = os.path.join(d.state, "sandboxes", sid)
    d.cli("sandbox", "rm", sid)
    raw, first, total = [], [], []

    def boot_raw():
        elapsed, vm = raw_boot(argv, old_dir, os.path.join(ASSETS, "base.ext4"))
        stop_raw(vm)
        raw.append(elapsed)

    def boot_ours():
        # From the daemon's state directory, as the raw boot has no workspace: started in a repository the CLI would
        # check one out (bench/repo_exec.py measures that).
        f, t = first_output_time(d, "exec", "--", "echo", "x", cwd=d.state)
        first.append(f)
        total.append(t)

    # Back-to-back boots on this host alternate between a faster and a slower one (raw boots alone do, by 60 to
    # 150 ms), so a strict raw/ours alternation put every raw boot in one phase and every one of ours in the other,
    # and the ratio came out 1.03 or 1.25 by the phase it started in. Pairs in alternating order (raw, ours, ours, raw,
    # ...) give each side both phases.
    for i in range(n):
        for boot in (boot_raw, boot_ours) if i % 2 == 0 else (boot_ours, boot_raw):
            boot()
    print("== boot: cold create -> first command output")
    print(f"  raw QEMU boot -> agent hello        {fmt(raw)}")
    print(f"  cleanroom exec -- echo: 1st byte    {fmt(first)}")
    print(f"  cleanroom exec -- echo: total       {fmt(total)}  (includes sandbox teardown)")
    ratio = statistics.median(first) / statistics.median(raw)
    print(f"  overhead (p50 first byte / p50 raw)  {ratio:.2f}x  ({(ratio-1)*100:+.0f}%)")


class ConnectApi:
    """The control API as a client program uses it: Connect (JSON) over the daemon's unix socket, one kept-alive connection."""

    def __init__(self, sock_path):
        self.conn = http.client.HTTPConnection("localhost")
        self.conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.conn.sock.connect(sock_path)

    def unary(self, method, body):
        self.conn.request("POST", "/cleanroom.v1." + method, json.dumps(body), {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"bench: {method} answered {r.status}: {data[:300]!r}")
        return json.loads(data)

    def stream(self, method, body):
        """A server stream: every message until the end-of-stream envelope."""
        payload = json.dumps(body).encode()
        self.conn.request("POST", "/cleanroom.v1." + method, struct.pack(">BI", 0, len(payload)) + payload, {"Content-Type": "application/connect+json"})
        r = self.conn.getresponse()
        messages = []
        while True:
            flags, length = struct.unpack(">BI", r.read(5))
            message = json.loads(r.read(length))
            if flags & 2:
                r.read()
                if message.get("error"):
                    sys.exit(f"bench: {method} ended with {message['error']}")
                return messages
            messages.append(message)

    def exec(self, sid, command):
        """CreateExecution, then StreamExecution to its exit; returns the exit code."""
        execution = self.unary("ExecutionService/CreateExecution", {"sandboxId": sid, "command": command})["execution"]
        events = self.stream("ExecutionService/StreamExecution", {"sandboxId": sid, "executionId": execution["executionId"], "follow": True})
        return next(e["exit"].get("exitCode", 0) for e in events if "exit" in e)

    def run(self, sid, command):
        """RunExecution (create and stream in one call) to its exit; returns the exit code."""
        events = self.stream("ExecutionService/RunExecution", {"sandboxId": sid, "command": command})
        return next(e["exit"].get("exitCode", 0) for e in events if "exit" in e)


def bench_roundtrip(d, n):
    """Every call once per round, interleaved. Unmeasured rounds first, until the daemon's JIT compiler has been idle
    for five rounds in a row (at least 20, at most 300): the runtime compiles a path's methods again, optimised, once
    they have run 30 times and 100 ms passed without new ones, and on two cores that compiler's bursts take CPU from
    the calls measured beside them. A daemon that has served a few hundred calls, as any long-running one has, is the
    case measured, as in the throughput benchmark."""
    sid = d.cli("sandbox", "create").stdout.decode().strip()
    try:
        runs = max(n, 20)
        api = ConnectApi(d.sock)
        daemon = children_of(d.proc.pid) or [d.proc.pid]

        def one_round():
            times = []
            t0 = time.perf_counter()
            if api.exec(sid, ["true"]) != 0:
                sys.exit("bench: true failed")
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            if api.run(sid, ["true"]) != 0:
                sys.exit("bench: true failed")
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            api.unary("SystemService/GetVersion", {})
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            d.cli("exec", "--in", sid, "--", "true")
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            d.cli("version")
            times.append(time.perf_counter() - t0)
            return times

        warm_rounds, warm_jit = warm_up_until_jit_quiet(daemon, one_round, least=20, most=300, quiet_runs=5, idle_seconds=0.005)
        api_times, run_times, version_times, cli_times, cli_version = zip(*(one_round() for _ in range(runs)))
        print(f"== roundtrip: exec on a ready sandbox (interleaved; after {warm_rounds} unmeasured rounds, in which the daemon's JIT compiler took {warm_jit * 1000:.0f} ms of CPU)")
        print(f"  API: CreateExecution+StreamExecution of `true`  {fmt_tail(api_times)}")
        print(f"  API: RunExecution of `true` (one call)          {fmt_tail(run_times)}")
        print(f"  API: GetVersion (one unary call)                {fmt_tail(version_times)}")
        print(f"  CLI: cleanroom exec --in ID -- true             {fmt_tail(cli_times)}")
        print(f"  CLI: cleanroom version (process start + RPC)    {fmt_tail(cli_version)}")
    finally:
        d.cli("sandbox", "rm", sid)


def bench_throughput(d, n, mib=64):
    """Every configuration once per round, n rounds, each ratio the median of its rounds' ratios to that round's dd:
    this host's speed drifts by half over minutes (dd alone ranged 260 to 420 MiB/s in one day), so a baseline
    measured minutes after the path it is compared with said more about the drift than about the path."""
    sid = d.cli("sandbox", "create").stdout.decode().strip()
    argv = qemu_argv_of(sid)
    old_dir = os.path.join(d.state, "sandboxes", sid)
    qemu = qemu_pid_of(sid)
    daemon = children_of(d.proc.pid) or [d.proc.pid]
    # Baseline: a VM booted from the same argv beside the sandbox, with a second virtio-serial port; the guest's dd
    # writes straight into it. One hop further in the same VM: dd into a pipe read by a small C program that frames it
    # as the agent does (bench/throughput), so the guest's share of the path is measured without the agent, the
    # daemon, the API and the CLI; then the agent itself, with this script as its host.
    writer_disk = frame_writer_disk()
    work_hint = tempfile.mkdtemp(prefix="cr-port-")
    port = os.path.join(work_hint, "bench.sock")
    lst = socket.socket(socket.AF_UNIX)
    lst.bind(port)
    lst.listen(1)
    extra = ["-chardev", f"socket,id=bench,path={port}", "-device", "virtserialport,chardev=bench,name=bench"]
    if writer_disk:
        extra += ["-drive", f"file={writer_disk},if=none,id=writer,format=raw,readonly=on", "-device", "virtio-blk-device,drive=writer"]
    vm = conn = None
    streams = iter(range(1, 1 << 30, 2))
    dd_to_port = "dd if=/dev/zero of=/dev/$port bs=64k count=%d 2>/dev/null" % (mib * 16)
    dd_to_writer = "mkdir -p /mnt/w && { [ -x /mnt/w/frame_writer ] || mount -o ro /dev/vdb /mnt/w; } && dd if=/dev/zero bs=64k count=%d 2>/dev/null | /mnt/w/frame_writer /dev/$port" % (mib * 16)
    try:
        _, vm = raw_boot(argv, old_dir, os.path.join(ASSETS, "base.ext4"), extra)
        conn, _ = lst.accept()
        # dd with 64 KiB blocks, as in the baseline: busybox head is itself slow under TCG. The output is read here
        # in 1 MiB chunks and counted, as the baseline reads its port, so neither side pays for keeping it. Unmeasured
        # runs first: a sustained stream through a daemon that has been up a while is the case measured, not the
        # first translation of the path under TCG nor the daemon's JIT tiering its hot paths up. That tiering comes
        # in a burst after a few hundred MiB (in runs 4 to 9 of a fresh daemon, up to 1.7 ms of the compiler thread's
        # CPU per MiB, a third of the machine's spare CPU), so warming up takes at least 10 runs and stops only once
        # three runs in a row kept the compiler thread (nearly) idle: quiet runs can come before the burst.
        cmd = [CLI, "exec", "--in", sid, "--", "dd", "if=/dev/zero", "bs=65536", f"count={mib * 16}"]
        api = ConnectApi(d.sock)

        def whole():
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, env=d.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=d.state)
            got = 0
            while chunk := os.read(p.stdout.fileno(), 1 << 20):
                got += len(chunk)
            p.wait()
            if got != mib << 20:
                sys.exit(f"bench: got {got} bytes, expected {mib << 20}")
            return time.perf_counter() - t0

        def stored():
            # The same command with nobody following its output: the guest's hops, the daemon's read and its log,
            # without the API and the CLI. Polled every 3 ms for the end, which the rate barely feels at these sizes.
            t0 = time.perf_counter()
            execution = api.unary("ExecutionService/CreateExecution", {"sandboxId": sid, "command": cmd[cmd.index("--") + 1:]})["execution"]
            while not api.unary("ExecutionService/GetExecution", {"executionId": execution["executionId"]})["execution"].get("finishedAt"):
                time.sleep(0.003)
            return time.perf_counter() - t0

        warm_runs, warm_jit = warm_up_until_jit_quiet(daemon, whole, least=10, most=24, quiet_runs=3, idle_seconds=0.01)
        # The first run of each guest path in a fresh VM is TCG translating it.
        port_stream(vm, conn, mib, dd_to_port, framed=False, stream=next(streams))
        if writer_disk:
            port_stream(vm, conn, mib, dd_to_writer, framed=True, stream=next(streams))
        for _ in range(2):
            agent_stream(vm, mib, next(streams))

        rates = {k: [] for k in ("base", "framed", "agent", "stored", "whole")}
        framed_cpu, agent_cpu, framed_guest, agent_guest, agent_switches = [], [], [], [], []
        whole_cpu = [0.0, 0.0, 0.0]
        for _ in range(n):
            cpu0 = (cpu_seconds(qemu), sum(cpu_seconds(p) for p in daemon), resource.getrusage(resource.RUSAGE_CHILDREN))
            rates["whole"].append(mib / whole())
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            for i, spent in enumerate((cpu_seconds(qemu) - cpu0[0], sum(cpu_seconds(p) for p in daemon) - cpu0[1],
                                       usage.ru_utime + usage.ru_stime - cpu0[2].ru_utime - cpu0[2].ru_stime)):
                whole_cpu[i] += spent
            rates["stored"].append(mib / stored())
            rates["base"].append(mib / port_stream(vm, conn, mib, dd_to_port, framed=False, stream=next(streams))[0])
            if writer_disk:
                before = guest_counters(vm, next(streams))
                secs, qemu_secs = port_stream(vm, conn, mib, dd_to_writer, framed=True, stream=next(streams))
                after = guest_counters(vm, next(streams))
                rates["framed"].append(mib / secs)
                framed_cpu.append(qemu_secs * 1000 / mib)
                framed_guest.append((after[0] - before[0]) * 1000 / mib)
            before = guest_counters(vm, next(streams))
            secs, qemu_secs = agent_stream(vm, mib, next(streams))
            after = guest_counters(vm, next(streams))
            rates["agent"].append(mib / secs)
            agent_cpu.append(qemu_secs * 1000 / mib)
            agent_guest.append((after[0] - before[0]) * 1000 / mib)
            agent_switches.append((after[1] - before[1]) / mib)
    finally:
        if conn:
            conn.close()
        lst.close()
        if vm:
            stop_raw(vm)
        shutil.rmtree(work_hint, ignore_errors=True)
        if writer_disk:
            shutil.rmtree(os.path.dirname(writer_disk), ignore_errors=True)
        d.cli("sandbox", "rm", sid)
    p50 = lambda k: statistics.median(rates[k])
    ratio = lambda k: statistics.median(r / b for r, b in zip(rates[k], rates["base"]))
    spread = lambda k: f"{min(r / b for r, b in zip(rates[k], rates['base'])):.2f}-{max(r / b for r, b in zip(rates[k], rates['base'])):.2f}"
    print(f"== throughput: {mib} MiB guest stdout -> host ({n} rounds, each running every line once; a ratio is the median of")
    print("   the rounds' ratios to that round's dd, with their range)")
    print(f"  dd to a bare virtio-serial port     {p50('base'):7.1f} MiB/s (p50; a VM booted beside the sandbox from its argv)")
    if writer_disk:
        print(f"  dd | pipe | frames to the port      {p50('framed'):7.1f} MiB/s (p50; the guest's hops, a C reader in place of the agent)  ratio {ratio('framed'):.2f}x ({spread('framed')})")
        print(f"    QEMU CPU per MiB there: {statistics.median(framed_cpu):.1f} ms (a host that reads at once; against the whole path's below); busy by the guest's own clock: {statistics.median(framed_guest):.1f} ms")
    else:
        print("  dd | pipe | frames to the port      skipped (no C compiler or mkfs.ext4 here to build bench/throughput/frame_writer.c)")
    print(f"  the agent to a host that reads at once {p50('agent'):4.1f} MiB/s (p50; dd's stdout through the agent, this script granting the window back as it arrives, a quarter at a time)  ratio {ratio('agent'):.2f}x ({spread('agent')})")
    print(f"    QEMU CPU per MiB there: {statistics.median(agent_cpu):.1f} ms; busy by the guest's own clock: {statistics.median(agent_guest):.1f} ms, with {statistics.median(agent_switches):.0f} context switches of the agent's threads")
    print(f"  stored by the daemon, no client     {p50('stored'):7.1f} MiB/s (p50; CreateExecution, nobody follows the output)  ratio {ratio('stored'):.2f}x ({spread('stored')})")
    print(f"  cleanroom exec (whole path)         {p50('whole'):7.1f} MiB/s (p50; includes CLI start and exec setup)  ratio {ratio('whole'):.2f}x ({spread('whole')})")
    per_mib = [c * 1000 / (mib * n) for c in whole_cpu]
    print(f"  CPU per MiB on the whole path: QEMU {per_mib[0]:.1f} ms, daemon {per_mib[1]:.1f} ms, CLI {per_mib[2]:.1f} ms")
    print(f"  (after {warm_runs} unmeasured runs; the daemon's JIT compiler thread took {warm_jit * 1000:.0f} ms of CPU in them)")


def frame_writer_disk():
    """A small ext4 image holding bench/throughput/frame_writer built static, or None when it cannot be built here."""
    work = tempfile.mkdtemp(prefix="cr-writer-")
    root = os.path.join(work, "root")
    os.makedirs(root)
    disk = os.path.join(work, "writer.ext4")
    try:
        subprocess.run(["cc", "-O2", "-static", "-o", os.path.join(root, "frame_writer"), os.path.join(ROOT, "bench", "throughput", "frame_writer.c")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-d", root, disk, "8M"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return disk
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(work, ignore_errors=True)
        return None


def port_stream(vm, conn, mib, pipeline, framed, stream):
    """Runs `pipeline` in the raw VM with $port naming the bench port's device; returns the seconds from sending the
    command until `mib` MiB of data (frame payloads, when `framed`) arrived on `conn` (the whole path's figure also
    includes starting the command), and QEMU's CPU seconds meanwhile."""
    proc, agent, _ = vm
    script = "for p in /sys/class/virtio-ports/*; do [ \"$(cat $p/name)\" = bench ] && port=$(basename $p) && %s; done" % pipeline
    payload = exec_payload([b"sh", b"-c", script.encode()])
    t0, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
    agent.sendall(frame(2, stream, payload))
    buf = bytearray(1 << 20)
    got, header, body_left = 0, b"", 0
    while got < mib << 20:
        count = conn.recv_into(buf)
        if not count:
            break
        if not framed:
            got += count
            continue
        i = 0
        while i < count:
            if body_left:
                take = min(body_left, count - i)
                body_left, got, i = body_left - take, got + take, i + take
            else:
                need = 9 - len(header)
                header += bytes(buf[i:i + need])
                i += min(need, count - i)
                if len(header) == 9:
                    body_left, header = struct.unpack(">I", header[:4])[0], b""
    if got != mib << 20:
        sys.exit(f"bench: the port delivered {got} bytes, expected {mib << 20}")
    return time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0


def guest_counters(vm, stream):
    """The raw VM's busy CPU seconds (user, nice, system, irq and softirq of its /proc/stat, by the guest's clock, which
    counts a vCPU the host has preempted as busy: it can exceed QEMU's CPU) and the context switches of the agent's
    threads (PID 1) so far, read through the agent. The guest's own view shows what QEMU's CPU figure
    cannot: which part is the guest's work, and a thread woken for nothing (the agent's port reader was woken by every
    output buffer the host took, 22 times per MiB, until it waited for the port's signal instead)."""
    script = b"head -n 1 /proc/stat; cat /proc/1/task/*/status | grep ctxt_switches"
    lines = raw_exec_output(vm, [b"sh", b"-c", script], stream).decode().splitlines()
    ticks = [int(v) for v in lines[0].split()[1:8]]
    busy = (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / 100  # USER_HZ
    return busy, sum(int(line.split()[1]) for line in lines[1:])


def raw_exec_output(vm, argv, stream, pending=None):
    """Runs argv through the raw VM's agent as the daemon would (stdin closed at once) and returns its stdout (small: no
    window to grant). The exit is released, as the daemon does once it recorded it: the guest keeps at most 256 streams
    unreleased. `pending`: the caller's bytes received and not yet parsed, when it keeps them between calls."""
    _, agent, _ = vm
    agent.sendall(frame(2, stream, exec_payload(argv)) + frame(CLOSE_STDIN, stream, b""))
    pending, out = bytearray() if pending is None else pending, bytearray()
    while True:
        ftype, sid, _, body = next_frame(agent, pending)
        if sid == stream and ftype == 4:
            out += body
        elif sid == stream and ftype == 6:
            agent.sendall(frame(RELEASE, stream, b""))
            return bytes(out)


def next_frame(agent, pending, keep=True):
    """The next frame from the agent's socket as (type, stream, payload length, payload), taking it off `pending`
    (bytes received and not yet parsed, kept by the caller between calls). With keep=False the payload is dropped
    unread (None): the output streams measured are not copied again here."""
    while len(pending) < 9:
        pending += agent.recv(1 << 20) or sys.exit("bench: the agent closed its port")
    length, ftype, sid = struct.unpack(">IBI", pending[:9])
    while len(pending) < 9 + length:
        pending += agent.recv(1 << 20) or sys.exit("bench: the agent closed its port")
    body = bytes(pending[9:9 + length]) if keep else None
    del pending[:9 + length]
    return ftype, sid, length, body


def agent_stream(vm, mib, stream):
    """Runs dd through the raw VM's agent as the daemon would (its stdout framed into the agent's port) with this
    script as the host, which grants the window back as soon as a quarter of it arrived instead of after storing it
    (the daemon grants a quarter at a time once stored; granting more often costs the guest more frames to read: 255
    against 296 MiB/s one run with a grant every 256 KiB); stdin is closed at once, as the daemon does for `exec`
    without `--stdin`. Returns the seconds from sending the exec until its exit, and QEMU's CPU seconds meanwhile."""
    proc, agent, _ = vm
    payload = exec_payload([b"dd", b"if=/dev/zero", b"bs=65536", b"count=%d" % (mib * 16)])
    t0, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
    agent.sendall(frame(2, stream, payload) + frame(CLOSE_STDIN, stream, b""))
    pending = bytearray()
    got = unacknowledged = 0
    while True:
        ftype, sid, length, _ = next_frame(agent, pending, keep=False)
        if sid != stream:
            continue  # the exits of the port commands before this one
        if ftype == 4:
            got += length
            unacknowledged += length
            if unacknowledged >= HOST_GRANT_EVERY:
                agent.sendall(frame(10, stream, struct.pack(">I", unacknowledged)))
                unacknowledged = 0
        elif ftype == 6:
            break
    if got != mib << 20:
        sys.exit(f"bench: the agent sent {got} bytes of output, expected {mib << 20}")
    return time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0


def qemu_pid_of(sandbox_id):
    out = subprocess.run(["pgrep", "-f", "--", f"-name {sandbox_id} "], stdout=subprocess.PIPE).stdout.decode().split()
    pids = [int(p) for p in out if os.path.exists(f"/proc/{p}/exe") and os.readlink(f"/proc/{p}/exe").endswith("qemu-system-x86_64")]
    return pids[0] if pids else None


def pss_mib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_for_template(d, timeout=180):
    root = os.path.join(d.state, "templates")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.isdir(root) and any(os.path.exists(os.path.join(root, x, "ready")) for x in os.listdir(root)):
            return
        time.sleep(0.05)
    sys.exit("bench: no template became ready; see " + os.path.join(d.state, "daemon.log"))


def idle_pss(d):
    sid = d.cli("sandbox", "create").stdout.decode().strip()
    try:
        d.cli("exec", "--in", sid, "--", "true")
        pid = qemu_pid_of(sid)
        return pss_mib(pid) if pid else 0.0
    finally:
        d.cli("sandbox", "rm", sid)


def pool_idle(d):
    """Idle VMs in the daemon's warm pool, from its log: made, less taken by a sandbox, less stopped."""
    made = taken = stopped = 0
    with open(os.path.join(d.state, "daemon.log")) as f:
        for line in f:
            if "warm pool: VM" in line:
                made += " ready (" in line
                taken += " taken by sandbox" in line
            stopped += "warm pool: stopping VM" in line
    return made - taken - stopped


def wait_until_pool_full(d, size, timeout=60):
    deadline = time.time() + timeout
    while pool_idle(d) < size:
        if time.time() > deadline:
            sys.exit("bench: the warm pool did not refill; see " + os.path.join(d.state, "daemon.log"))
        time.sleep(0.02)


# Sandboxes per line of "first command in a new sandbox": with 5, the cold line's ratio read 1.19 and 1.70 in two runs
# hours apart with nothing changed in between.
FIRST_EXEC_RUNS = 10


def first_and_later(first, later):
    """The first commands against the second ones: the ratio of their p50s, and the median of each sandbox's own ratio."""
    own = statistics.median(a / b for a, b in zip(first, later))
    return f"ratio {statistics.median(first) / statistics.median(later):.2f}x (per sandbox {own:.2f}x)"


def first_and_later_exec(d, runs, before_each=None, pause=0.0):
    """`exec --in` round trips in new sandboxes: the first command in each (`pause` seconds after the create), and the second."""
    first, later = [], []
    for _ in range(runs):
        if before_each:
            before_each()
        sid = d.cli("sandbox", "create").stdout.decode().strip()
        time.sleep(pause)
        try:
            for times in (first, later):
                t0 = time.perf_counter()
                d.cli("exec", "--in", sid, "--", "true")
                times.append(time.perf_counter() - t0)
        finally:
            d.cli("sandbox", "rm", sid)
    return first, later


def bench_warm(n, pool=2):
    n = max(n, 20)
    # The daemon's defaults otherwise (networking on when root), run outside any repository.
    cold_d = Daemon("off")
    try:
        cold = [first_output_time(cold_d, "exec", "--", "echo", "x", cwd=cold_d.state)[0] for _ in range(max(5, n // 4))]
        cold_pss = idle_pss(cold_d)
        cold_first, cold_later = first_and_later_exec(cold_d, FIRST_EXEC_RUNS)
    finally:
        cold_d.close()
    warm_d = Daemon("on")
    try:
        first_output_time(warm_d, "exec", "--", "echo", "x", cwd=warm_d.state)  # cold; starts the template build
        wait_for_template(warm_d)
        warm = [first_output_time(warm_d, "exec", "--", "echo", "x", cwd=warm_d.state)[0] for _ in range(n)]
        warm_pss = idle_pss(warm_d)
        warm_first, warm_later = first_and_later_exec(warm_d, FIRST_EXEC_RUNS)
        # As a person or an agent works: the first command some time after the create (the daemon warms the
        # restored VM up in the background meanwhile).
        paused_first, paused_later = first_and_later_exec(warm_d, FIRST_EXEC_RUNS, pause=2.0)
        with open(os.path.join(warm_d.state, "daemon.log")) as f:
            built = [line.strip() for line in f if "Template" in line and "ready in" in line]
    finally:
        warm_d.close()
    pool_d = Daemon("on", extra=("--warm-pool", str(pool)))
    try:
        first_output_time(pool_d, "exec", "--", "echo", "x", cwd=pool_d.state)  # cold; builds the template, then fills
        wait_until_pool_full(pool_d, pool, timeout=180)
        # Back to back, as fast as the CLI goes: the pool refills one VM at a time and may run dry.
        pooled = []
        for _ in range(n):
            pooled.append(first_output_time(pool_d, "exec", "--", "echo", "x", cwd=pool_d.state)[0])
        # Paced: each create waits until the pool has made a VM for it (a pool hit every time).
        paced = []
        for _ in range(n):
            wait_until_pool_full(pool_d, pool)
            paced.append(first_output_time(pool_d, "exec", "--", "echo", "x", cwd=pool_d.state)[0])
        pool_first, pool_later = first_and_later_exec(pool_d, FIRST_EXEC_RUNS, before_each=lambda: wait_until_pool_full(pool_d, pool))
    finally:
        pool_d.close()

    print("== warm: create -> first command output (`exec -- echo x`, the sandbox removed after each)")
    print(f"  cold (--templates off)              {fmt(cold)}")
    print(f"  warm (restored from a template)     {fmt(warm)}  p99 {p99(warm)*1000:.0f} ms")
    print(f"  pooled, back to back (--warm-pool {pool}) {fmt(pooled)}  p99 {p99(pooled)*1000:.0f} ms")
    print(f"  pooled, each after a refill         {fmt(paced)}  p99 {p99(paced)*1000:.0f} ms")
    print(f"  warm / cold (p50)                   {statistics.median(warm)/statistics.median(cold):.2f}x")
    print(f"  pooled (refilled) / cold (p50)      {statistics.median(paced)/statistics.median(cold):.2f}x")
    print(f"  host memory of an idle sandbox (PSS) cold {cold_pss:.0f} MiB, warm {warm_pss:.0f} MiB")
    print("== first command in a new sandbox vs the second (`exec --in ID -- true`, CLI)")
    print(f"  cold: first {fmt(cold_first)}; second {fmt(cold_later)}  {first_and_later(cold_first, cold_later)}")
    print(f"  warm: first {fmt(warm_first)}; second {fmt(warm_later)}  {first_and_later(warm_first, warm_later)}")
    print(f"  warm, first 2 s after the create: first {fmt(paused_first)}; second {fmt(paused_later)}  {first_and_later(paused_first, paused_later)}")
    print(f"  pooled: first {fmt(pool_first)}; second {fmt(pool_later)}  {first_and_later(pool_first, pool_later)}")
    for line in built:
        print("  " + line[line.index("Template"):])


def stat_cpu_seconds(stat):
    """User plus system CPU seconds from the text of a /proc/.../stat file."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        return stat_cpu_seconds(f.read())


def warm_up_until_jit_quiet(daemon, run, least, most, quiet_runs, idle_seconds):
    """Calls run() at least `least` times, then until the daemon's JIT compiler thread took at most `idle_seconds` of
    CPU in each of `quiet_runs` calls in a row, or `most` calls in all. Returns the calls made and the compiler's CPU
    seconds in them."""
    runs, quiet, jit0 = 0, 0, sum(jit_seconds(p) for p in daemon)
    while runs < least or (quiet < quiet_runs and runs < most):
        before = sum(jit_seconds(p) for p in daemon)
        run()
        runs += 1
        quiet = quiet + 1 if sum(jit_seconds(p) for p in daemon) - before <= idle_seconds else 0
    return runs, sum(jit_seconds(p) for p in daemon) - jit0


def jit_seconds(pid):
    """CPU seconds of the .NET runtime's tiered-compilation thread in process `pid` (0 when it has none)."""
    total = 0.0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if "Tiered" in stat[stat.index("(") + 1:stat.rindex(")")]:
            total += stat_cpu_seconds(stat)
    return total


def timed(d, *args, runs=10, cwd=None):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run([CLI, *args], env=d.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=cwd)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit(f"bench: cleanroom {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
    return statistics.median(times)


def density(d, count):
    ids = [d.cli("sandbox", "create").stdout.decode().strip() for _ in range(count)]
    try:
        modes = {}
        for sid in ids:
            r = d.cli("sandbox", "inspect", sid)
            mode = [l.split(":", 1)[1].strip() for l in r.stdout.decode().splitlines() if l.startswith("start_mode:")]
            modes[mode[0] if mode else "?"] = modes.get(mode[0] if mode else "?", 0) + 1
        pids = [p for p in (qemu_pid_of(sid) for sid in ids) if p]
        pss = sum(pss_mib(p) for p in pids)
        cpu0 = sum(cpu_seconds(p) for p in pids)
        time.sleep(10)
        cpu = (sum(cpu_seconds(p) for p in pids) - cpu0) / 10
        exec_rtt = timed(d, "exec", "--in", ids[0], "--", "true")
        ls = timed(d, "sandbox", "ls")
        return modes, pss / max(1, len(pids)), cpu, exec_rtt, ls
    finally:
        d.cli("sandbox", "rm", *ids, check=False)


def bench_density(count):
    print(f"== density: {count} idle sandboxes (512 MiB, 2 vCPUs each), against 1")
    for templates in ("on", "off"):
        # The admission caps would stop at 4 vCPUs per core; idle sandboxes are what this measures.
        d = Daemon(templates, ["--max-total-vcpus", str(2 * count + 4), "--max-total-memory", f"{(count + 2) * 512}MiB"])
        try:
            if templates == "on":
                d.cli("sandbox", "rm", d.cli("sandbox", "create").stdout.decode().strip())
                wait_for_template(d)
            _, _, _, one_rtt, one_ls = density(d, 1)
            modes, pss, cpu, rtt, ls = density(d, count)
            kind = "warm" if templates == "on" else "cold"
            print(f"  {kind}: started {modes}; PSS per sandbox {pss:.0f} MiB; idle CPU of all {cpu:.2f} cores")
            print(f"  {kind}: exec --in p50 {rtt*1000:.0f} ms with {count} alive vs {one_rtt*1000:.0f} ms with 1 ({rtt/one_rtt:.2f}x); "
                  f"sandbox ls p50 {ls*1000:.0f} ms vs {one_ls*1000:.0f} ms")
        finally:
            d.close()


def until_serving(d):
    """Until the API answers a listing (the socket may accept before the daemon serves)."""
    while d.cli("sandbox", "ls", check=False).returncode != 0:
        pass


def until_all_serve(d, ids):
    """Seconds until every sandbox ran `true` once, asking them one after another (as a client would)."""
    pending = list(ids)
    deadline = time.time() + 120
    while pending:
        r = d.cli("exec", "--in", pending[0], "--", "true", check=False)
        if r.returncode == 0:
            pending.pop(0)
        elif time.time() > deadline or b"not ready" in r.stderr:
            sys.exit(f"bench: sandbox {pending[0]} did not come back: {r.stderr.decode(errors='replace')}")


def commands_through_crash(d, ids, lines=30):
    """Starts `cleanroom exec` in each sandbox (a line every 250 ms, then exit 7), crashes the daemon once every
    client printed a line, starts the next one; returns (seconds from the start until every client printed a line
    written after the crash, clients whose output was every line exactly once and whose exit was 7)."""
    script = f"i=0; while [ $i -lt {lines} ]; do echo line-$i; i=$((i+1)); sleep 0.25; done; exit 7"
    errors = [tempfile.TemporaryFile() for _ in ids]
    clients = [subprocess.Popen([CLI, "exec", "--in", sid, "--", "sh", "-c", script], env=d.env, cwd=d.state,
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL) for sid, err in zip(ids, errors)]
    seen = [[] for _ in clients]  # (time, line) per client
    first = [threading.Event() for _ in clients]

    def read(i, client):
        for raw in client.stdout:
            seen[i].append((time.perf_counter(), raw.decode().strip()))
            first[i].set()

    readers = [threading.Thread(target=read, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for r in readers:
        r.start()
    for e in first:
        e.wait(60)
    d.crash()
    crashed = time.perf_counter()
    d.start()
    for c in clients:
        c.wait()
    for r in readers:
        r.join()
    after = [next((t for t, _ in s if t > crashed), None) for s in seen]
    resumed = max(t for t in after if t is not None) - crashed if all(t is not None for t in after) else float("nan")
    expected = [f"line-{i}" for i in range(lines)]
    intact = 0
    for c, s, err in zip(clients, seen, errors):
        got = [l for _, l in s]
        if c.returncode == 7 and got == expected:
            intact += 1
            continue
        err.seek(0)
        print(f"  client of {c.args[3]}: exit {c.returncode}, {len(got)} lines, missing {sorted(set(expected) - set(got))[:5]}, "
              f"twice {sorted(l for l in set(got) if got.count(l) > 1)[:5]}; stderr: {err.read().decode(errors='replace').strip()[:400]}")
    return resumed, intact


def bench_restart(count, runs):
    print(f"== restart: a daemon killed with SIGKILL while {count} sandboxes run (512 MiB, 2 vCPUs each)")
    d = Daemon("off", ["--max-total-vcpus", str(2 * count + 4), "--max-total-memory", f"{(count + 2) * 512}MiB"])
    try:
        def crash_and_start(ids):
            """(seconds until the next daemon serves, until every sandbox in ids answers)"""
            d.crash()
            t = time.perf_counter()
            d.start()
            until_serving(d)
            serving = time.perf_counter() - t
            until_all_serve(d, ids)
            return serving, time.perf_counter() - t

        empty = [crash_and_start([])[0] for _ in range(runs)]
        t = time.perf_counter()
        ids = [d.cli("sandbox", "create").stdout.decode().strip() for _ in range(count)]
        create_all = time.perf_counter() - t
        qemus = {sid: qemu_pid_of(sid) for sid in ids}
        serving, all_back = zip(*[crash_and_start(ids) for _ in range(runs)])
        same = sum(1 for sid in ids if qemu_pid_of(sid) == qemus[sid])
        print(f"  daemon start, no sandboxes:            serving {fmt(empty)}")
        print(f"  daemon start, {count:2d} sandboxes to take over: serving {fmt(serving)}")
        print(f"                                     all {count} answer exec {fmt(all_back)}")
        print(f"  against creating the {count} anew (cold, one after another): {create_all*1000:.0f} ms; "
              f"{same}/{count} still run in the VM they started in")
        resumed, intact = zip(*[commands_through_crash(d, ids) for _ in range(runs)])
        print(f"  a command streaming in each of the {count} through the crash: until every client printed again {fmt(resumed)}; "
              f"{min(intact)}/{count} clients got every line once and exit 7")
        d.cli("sandbox", "rm", *ids, check=False)
    finally:
        d.close()


class RawAgent:
    """A raw VM's agent driven as the daemon drives it, one command after another on streams of its own."""

    def __init__(self, vm):
        self.vm, self.pending, self.streams = vm, bytearray(), iter(range(1, 1 << 30, 2))

    def run(self, argv):
        return raw_exec_output(self.vm, argv, next(self.streams), self.pending)

    def switches(self):
        """Context switches of the whole guest so far (its /proc/stat)."""
        return int(self.run([b"sh", b"-c", b"grep ctxt /proc/stat"]).split()[1])


def bench_agent_ab(d, initrd, rounds, execs=50):
    """The agent of `initrd` against the installed one, in two raw VMs booted side by side from a sandbox's argv,
    rounds interleaved (the order alternating), so that the host's drift (30 % within minutes here) falls on both."""
    sid = d.cli("sandbox", "create").stdout.decode().strip()
    argv, old_dir = qemu_argv_of(sid), os.path.join(d.state, "sandboxes", sid)
    d.cli("sandbox", "rm", sid)
    at = argv.index("-initrd")
    agents = []
    try:
        for path in (initrd, argv[at + 1]):
            _, vm = raw_boot(argv[:at + 1] + [path] + argv[at + 2:], old_dir, os.path.join(ASSETS, "base.ext4"))
            agents.append(RawAgent(vm))
        for agent in agents:
            for _ in range(execs):
                agent.run([b"true"])
        p50, cpu, switches = ([], []), ([], []), ([], [])
        for r in range(rounds):
            for k in ((0, 1) if r % 2 == 0 else (1, 0)):
                agent = agents[k]
                before, cpu0, times = agent.switches(), cpu_seconds(agent.vm[0].pid), []
                for _ in range(execs):
                    t0 = time.perf_counter()
                    agent.run([b"true"])
                    times.append(time.perf_counter() - t0)
                cpu[k].append((cpu_seconds(agent.vm[0].pid) - cpu0) / execs)
                switches[k].append((agent.switches() - before) / execs)
                p50[k].append(statistics.median(times))
        print(f"== agent-ab: exec of `true` through the agent's protocol, raw VMs side by side ({rounds} interleaved rounds of {execs})")
        for k, name in ((0, os.path.basename(initrd)), (1, "installed")):
            print(f"  {name:24s} p50 {statistics.median(p50[k]) * 1000:6.2f} ms  QEMU CPU {statistics.median(cpu[k]) * 1000:6.2f} ms"
                  f"  guest switches {statistics.median(switches[k]):5.1f} per exec")
        ratios = [b / a for a, b in zip(*p50)]
        print(f"  installed / other, per round: p50 {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
    finally:
        for agent in agents:
            stop_raw(agent.vm)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", default="all", choices=["boot", "roundtrip", "throughput", "warm", "density", "restart", "agent-ab", "all"])
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--pool", type=int, default=2, help="warm: the pooled daemon's --warm-pool")
    ap.add_argument("--sandboxes", type=int, default=None, help="density: 40, restart: 10")
    ap.add_argument("--initrd", help="agent-ab: the initramfs whose agent is compared with the installed one")
    a = ap.parse_args()
    if not os.path.exists(CLI):
        sys.exit("bench: build first: scripts/setup.sh")
    if a.what == "warm":
        bench_warm(a.n, a.pool)
        return
    if a.what == "density":
        bench_density(a.sandboxes or 40)
        return
    if a.what == "restart":
        bench_restart(a.sandboxes or 10, a.n)
        return
    d = Daemon()
    try:
        if a.what in ("boot", "all"):
            bench_boot(d, a.n)
        if a.what in ("roundtrip", "all"):
            bench_roundtrip(d, a.n)
        if a.what in ("throughput", "all"):
            bench_throughput(d, a.n)
        if a.what == "agent-ab":
            if not a.initrd or not os.path.exists(a.initrd):
                sys.exit("bench: agent-ab needs --initrd FILE (an initramfs to compare with the installed one)")
            bench_agent_ab(d, a.initrd, max(a.n, 2))
    finally:
        d.close()
    if a.what == "all":
        bench_warm(a.n)


if __name__ == "__main__":
    main()
