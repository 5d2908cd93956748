using System.Globalization;

namespace Cleanroom.Vm.Qemu;

/// <summary>Builds QEMU's argv (without the binary) from a <see cref="QemuLaunchConfig"/>. Pure.</summary>
public static class QemuCommandLine
{
    /// <summary>
    /// TCG's translation cache, in MiB. QEMU's default is 1 GiB, which a busy guest fills and which the VM's cgroup
    /// (guest memory + overhead) would then OOM-kill: a network-heavy job did exactly that. The cgroup adds this on top
    /// of its overhead under TCG.
    /// </summary>
    public const int TcgTranslationCacheMiB = 256;

    /// <summary>
    /// microvm: no PCI, no firmware option ROMs, virtio-mmio found through ACPI (ACPI must stay on for Debian
    /// kernels). rtc=on avoids two 1 s stalls at boot; isa-serial gives the ttyS0 console.
    /// </summary>
    public const string Machine = "microvm,x-option-roms=off,isa-serial=on,rtc=on";

    /// <summary>
    /// QEMU's seccomp filter: no obsolete syscalls, no setuid/setgid and friends, no fork/exec (which also makes
    /// any QMP <c>migrate "exec:…"</c> fatal: snapshots must use <c>fd:</c> URIs), no scheduler or affinity changes.
    /// </summary>
    public const string Sandbox = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

    /// <summary>
    /// The guest CPU under TCG: everything TCG emulates, except the two flags that say <c>rep movsb</c>/<c>rep stosb</c>
    /// are the fastest way to copy (ERMS, FSRM). TCG runs those one byte per step, so with them advertised every
    /// kernel copy (pipes, sockets, files) and glibc's large <c>memcpy</c> went byte by byte. Without them the kernel
    /// copies 8 bytes per step (<c>rep movsq</c>; <see cref="TcgKernelArgs"/> takes it further) and glibc uses vector
    /// loops: a guest pipe moved 64 MiB in 0.13 s instead of 0.57 s, and output through the agent became a third faster
    /// (bench/bench.py throughput).
    /// </summary>
    public const string TcgCpu = "max,erms=off,fsrm=off";

    /// <summary>Under KVM the guest sees the host's CPU: string instructions run natively there.</summary>
    public const string KvmCpu = "host";

    /// <summary>
    /// Kernel arguments for a guest under TCG. <c>clearcpuid=rep_good</c> takes the guest kernel off <c>rep movsq</c> /
    /// <c>rep stosq</c> for its copies, clears and page copies onto its unrolled loops: TCG runs a <c>rep</c> string
    /// instruction one element per step (a translated block round trip for every 8 bytes), and an unrolled loop moves
    /// 64 bytes per block. A guest pipe moved 64 MiB in 65 instead of 90 ms, and output through the agent went from about
    /// 0.43 to 0.50 of <c>dd</c> into a bare port (bench/bench.py throughput, interleaved). The kernel notes the cleared flag
    /// in its log and marks itself tainted "out of spec" (<c>S</c>); nothing else reads that mark.
    /// </summary>
    public static readonly IReadOnlyList<string> TcgKernelArgs = ["clearcpuid=rep_good"];

    /// <summary>The kernel arguments an accelerator needs, placed before a VM's own (<see cref="VmSpec.ExtraKernelArgs"/>).</summary>
    public static IReadOnlyList<string> KernelArgs(AccelMode accel) => accel switch
    {
        AccelMode.Tcg => TcgKernelArgs,
        AccelMode.Kvm => [],
        _ => throw new ArgumentException($"Accelerator must be resolved to KVM or TCG before choosing kernel arguments, not {accel}.", nameof(accel)),
    };

    /// <summary>The <c>-cpu</c> model for an accelerator; part of what a memory snapshot must be restored with.</summary>
    public static string CpuModel(AccelMode accel) => accel switch
    {
        AccelMode.Tcg => TcgCpu,
        AccelMode.Kvm => KvmCpu,
        _ => throw new ArgumentException($"Accelerator must be resolved to KVM or TCG before choosing a CPU model, not {accel}.", nameof(accel)),
    };

    public static IReadOnlyList<string> Build(QemuLaunchConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(config.Vcpus, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(config.MemoryMiB, 1);

        var machine = config.MemoryFile is null ? Machine : Machine + ",memory-backend=mem";
        var argv = new List<string> { "-M", machine, "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-sandbox", Sandbox };
        if (config.Name is not null)
        {
            argv.AddRange(["-name", QemuOption.Escape(config.Name)]);
        }

        argv.AddRange(config.Accel switch
        {
            // thread=multi: one host thread per vCPU instead of round-robin on one.
            AccelMode.Tcg => ["-accel", string.Create(CultureInfo.InvariantCulture, $"tcg,thread=multi,tb-size={TcgTranslationCacheMiB}"), "-cpu", TcgCpu],
            AccelMode.Kvm => ["-accel", "kvm", "-cpu", KvmCpu],
            _ => throw new ArgumentException($"Accelerator must be resolved to KVM or TCG before building a command line, not {config.Accel}.", nameof(config)),
        });

        argv.AddRange(
        [
            "-smp", config.Vcpus.ToString(CultureInfo.InvariantCulture),
            "-m", config.MemoryMiB.ToString(CultureInfo.InvariantCulture),
        ]);
        if (config.MemoryFile is var (memoryPath, shared))
        {
            // -mem-path takes the path verbatim through QemuOption escaping (commas doubled).
            argv.AddRange(
            [
                "-object",
                string.Create(CultureInfo.InvariantCulture, $"memory-backend-file,id=mem,size={config.MemoryMiB}M,mem-path={QemuOption.Escape(memoryPath)},share={(shared ? "on" : "off")}"),
            ]);
        }

        argv.AddRange(
        [
            "-kernel", config.KernelPath,
            "-initrd", config.InitrdPath,
            "-append", config.KernelCommandLine,
        ]);

        if (config.RootDiskPath is not null)
        {
            // cache=unsafe: the overlay is thrown away with the sandbox, so guest flushes buy no durability that
            // matters; dropping them makes `sync`/fsync-heavy builds (npm, git) cheap. The raw base is opened
            // read-only as the qcow2 backing file and never written.
            argv.AddRange(
            [
                "-drive", $"id=root,file={QemuOption.Escape(config.RootDiskPath)},format=qcow2,if=none,cache=unsafe,discard=unmap",
                "-device", "virtio-blk-device,drive=root",
            ]);
        }

        if (config.WorkspaceDiskPath is not null)
        {
            // Shared by every sandbox on the same commit, so QEMU may only read it (readonly=on: the guest sees a
            // read-only disk and writes go to its overlay on the root disk). The serial is how the agent finds it.
            argv.AddRange(
            [
                "-drive", $"id=workspace,file={QemuOption.Escape(config.WorkspaceDiskPath)},format=raw,if=none,readonly=on",
                "-device", "virtio-blk-device,drive=workspace,serial=cr-workspace",
            ]);
        }

        if (config.AgentSocketPath is not null)
        {
            // wait=off: QEMU starts the guest without a host client; guest writes block until one connects.
            argv.AddRange(
            [
                "-device", "virtio-serial-device",
                "-chardev", $"socket,id=agent,path={QemuOption.Escape(config.AgentSocketPath)},server=on,wait=off",
                "-device", $"virtserialport,chardev=agent,name={Boot.KernelCommandLine.AgentPortName}",
            ]);
        }

        if (config.Tap is null && config.UnconnectedNicMac is { } placeholderMac)
        {
            // Same guest-visible card as a TAP-backed one; the hub drops whatever the guest sends.
            argv.AddRange(["-netdev", "hubport,id=net0,hubid=0", "-device", $"virtio-net-device,netdev=net0,mac={placeholderMac}"]);
        }

        if (config.Tap is var (descriptor, mac))
        {
            // The TAP arrives as an inherited descriptor: the confined QEMU has no right to open /dev/net/tun, and the
            // device vanishes when QEMU exits, so a crashed VM cannot leave it behind.
            argv.AddRange(
            [
                "-netdev", string.Create(CultureInfo.InvariantCulture, $"tap,id=net0,fd={descriptor}"),
                "-device", $"virtio-net-device,netdev=net0,mac={mac}",
            ]);
        }

        // Entropy for the guest from the start (TLS, package managers) instead of waiting on jitter.
        argv.AddRange(["-device", "virtio-rng-device"]);

        // The serial console goes to the host, which drains it into a size-bounded console.log (a chardev file would
        // let a hostile guest fill the host disk). A VM's console is a socket QEMU serves: it outlives the daemon
        // that started it, a restarted daemon connects again, and while nobody is connected QEMU drops the output
        // instead of blocking the guest. wait=on: QEMU starts the guest only once the host is connected, so the
        // console has the boot from its first line. The KVM probe keeps stdout.
        argv.AddRange(config.ConsoleSocketPath is { } console
            ? ["-chardev", $"socket,id=console,path={QemuOption.Escape(console)},server=on,wait=on", "-serial", "chardev:console"]
            : ["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"]);

        if (config.QmpSocketPath is not null)
        {
            argv.AddRange(["-qmp", $"unix:{QemuOption.Escape(config.QmpSocketPath)},server=on,wait=off"]);
        }

        if (config.IncomingDeferred)
        {
            argv.AddRange(["-incoming", "defer"]);
        }

        if (config.PidFilePath is not null)
        {
            // -pidfile takes the path verbatim: no comma escaping here.
            argv.AddRange(["-pidfile", config.PidFilePath]);
        }

        return argv;
    }
}
