namespace Cleanroom.Vm.Qemu;

/// <summary>Host-level settings of the QEMU backend (per daemon, not per sandbox).</summary>
public sealed record QemuBackendOptions
{
    public AccelMode Accel { get; init; } = AccelMode.Auto;

    /// <summary>qemu-system-x86_64 to run; null means <see cref="QemuBinary.Locate()"/>.</summary>
    public string? QemuPath { get; init; }

    /// <summary>qemu-img to run; null means <see cref="QemuBinary.LocateImg(string?)"/>.</summary>
    public string? QemuImgPath { get; init; }

    public string KvmDevicePath { get; init; } = KvmDevice.DefaultPath;

    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Host TSC kHz for the guest; null means detect it (<see cref="Boot.HostTsc.DetectAsync"/>).</summary>
    public long? TscKhz { get; init; }

    /// <summary>How long QEMU may take to bring up its control socket before the start counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long <see cref="IVm.ConnectAgentAsync"/> retries while the agent socket does not exist yet.</summary>
    public TimeSpan AgentConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Grace per polite stop step used by DisposeAsync.</summary>
    public TimeSpan DisposeGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest console.log; later guest output is dropped (the guest must not fill the host disk).</summary>
    public long ConsoleLogLimitBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Largest qemu.stderr.</summary>
    public long StderrLogLimitBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// First uid (and gid) of the range VMs run as when the daemon is root; each running VM gets its own. The
    /// default lies above the 16-bit range, above where useradd hands out subordinate ids (100000 to 600100000)
    /// and systemd-nspawn's container range (524288 to 1879048191), and below 2^31.
    /// </summary>
    public int FirstVmUid { get; init; } = 1_900_000_000;

    /// <summary>How many uids the range holds, which is also the most VMs that can run at once.</summary>
    public int VmUidCount { get; init; } = 65536;

    /// <summary>
    /// Memory allowed to a VM's cgroup beyond its guest memory: QEMU itself, its TCG translation cache, device
    /// buffers and the page cache of its overlay writes.
    /// </summary>
    public int CgroupMemoryOverheadMiB { get; init; } = 256;

    /// <summary>
    /// Most tasks (processes and threads) in a VM's cgroup: QEMU runs one thread per vCPU plus a block I/O thread
    /// pool of up to 64 and a few helpers; it never forks (the seccomp sandbox denies it).
    /// </summary>
    public int CgroupPidsMax { get; init; } = 256;
}
