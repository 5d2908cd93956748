using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Boot;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Tests.Support;
using Xunit.Abstractions;

namespace Cleanroom.Vm.Tests.Qemu;

/// <summary>
/// Boots the real kernel and initramfs from the boot assets (see <see cref="TestAssets"/>) with the accelerator
/// chosen by <see cref="AccelMode.Auto"/>, exactly as the daemon will.
/// </summary>
[Collection(SerialQemuTests.Name)]
public sealed class RealBootTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [BootAssetsFact]
    public async Task Auto_accel_resolves_with_a_reason()
    {
        var decision = await Backend().ResolveAccelAsync(CancellationToken.None);
        output.WriteLine($"{decision.Mode}: {decision.Reason} (probe {decision.ProbeDuration.TotalSeconds:0.00} s)");
        Assert.NotEqual(AccelMode.Auto, decision.Mode);
        Assert.StartsWith("KVM probe: ", decision.Reason, StringComparison.Ordinal);
        Assert.EndsWith(decision.Mode == AccelMode.Kvm ? "; using KVM" : "; using TCG", decision.Reason, StringComparison.Ordinal);
        Assert.True(decision.ProbeDuration < TimeSpan.FromSeconds(8));
    }

    [BootAssetsFact]
    public async Task Probe_mode_guest_reaches_userspace_prints_the_marker_and_powers_off()
    {
        var spec = Spec() with { ExtraKernelArgs = [KernelCommandLine.ProbeArg], KeepLogs = true };
        var stopwatch = Stopwatch.StartNew();
        await using (var vm = await Backend().StartAsync(spec, CancellationToken.None))
        {
            Assert.Equal(0, await vm.Exited.WaitAsync(BootTimeout));
            output.WriteLine($"boot to power-off: {stopwatch.Elapsed.TotalSeconds:0.00} s");
        }

        var console = await File.ReadAllTextAsync(Path.Combine(spec.WorkDir, "console.log"));
        Assert.True(
            console.Contains(KernelCommandLine.ProbeMarker, StringComparison.Ordinal),
            $"The guest did not print {KernelCommandLine.ProbeMarker}: the initramfs agent must implement {KernelCommandLine.ProbeArg}. Console:\n{console}");
        Assert.False(File.Exists(Path.Combine(spec.WorkDir, "root.qcow2")));
    }

    [BootAssetsFact]
    public async Task Agent_socket_connects_and_stop_leaves_nothing_behind()
    {
        var spec = Spec();
        var baseBefore = Stamp(spec.Assets.BaseImagePath);
        await using (var vm = await Backend().StartAsync(spec, CancellationToken.None))
        {
            await using var agent = await vm.ConnectAgentAsync(CancellationToken.None);
            Assert.True(agent.CanRead && agent.CanWrite);
            if (Environment.UserName == "root")
            {
                // The real kernel, initramfs and root image boot inside the jail, as the VM's uid, under seccomp.
                var status = File.ReadAllLines($"/proc/{vm.Pid}/status");
                Assert.Contains(status, l => l.StartsWith("Uid:", StringComparison.Ordinal) && !l.Contains("\t0\t", StringComparison.Ordinal));
                Assert.Contains("Seccomp:\t2", status);
                Assert.Contains("NoNewPrivs:\t1", status);
                Assert.Contains("CapEff:\t0000000000000000", status);
            }

            await vm.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            Assert.Equal(0, await vm.Exited);
        }

        Assert.False(Directory.Exists(spec.WorkDir));
        Assert.Equal(baseBefore, Stamp(spec.Assets.BaseImagePath));
    }

    [BootAssetsFact]
    public async Task A_tcg_guest_copies_without_rep_string_instructions_and_a_kvm_guest_keeps_them()
    {
        var backend = Backend();
        var accel = (await backend.ResolveAccelAsync(CancellationToken.None)).Mode;
        var spec = Spec("cpu");
        await using var vm = await backend.StartAsync(spec, CancellationToken.None);
        await using var stream = await vm.ConnectAgentAsync(CancellationToken.None);
        await using var agent = await AgentClient.ConnectAsync(stream, WireLimits.Default, BootTimeout, CancellationToken.None);
        var (exitCode, stdout) = await RunAsync(agent, "grep -m1 '^flags' /proc/cpuinfo; cat /proc/cmdline");
        Assert.Equal(0, exitCode);
        output.WriteLine($"{accel}: {stdout}");
        var lines = stdout.Split('\n');
        var flags = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("sse2", flags);
        if (accel == AccelMode.Tcg)
        {
            // What the kernel picks its copy routines by: none of the three may be left for TCG to run element by element.
            Assert.DoesNotContain("rep_good", flags);
            Assert.DoesNotContain("erms", flags);
            Assert.DoesNotContain("fsrm", flags);
        }
        else
        {
            Assert.DoesNotContain("clearcpuid", lines[1], StringComparison.Ordinal);
        }

        await agent.ShutdownAsync(CancellationToken.None);
        Assert.Equal(0, await vm.Exited.WaitAsync(BootTimeout));
    }

    [BootAssetsFact]
    public async Task Guest_writes_land_in_the_overlay_and_never_in_the_shared_base()
    {
        var backend = Backend();
        var spec0 = Spec("probe-base");
        var baseBefore = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(spec0.Assets.BaseImagePath)));
        foreach (var (id, command, expected) in new[]
        {
            ("write", "echo from-guest > /etc/new && sync && cat /etc/new", "from-guest\n"),
            ("read", "cat /etc/new 2>/dev/null || echo absent", "absent\n"),
        })
        {
            var spec = Spec(id);
            await using var vm = await backend.StartAsync(spec, CancellationToken.None);
            await using var stream = await vm.ConnectAgentAsync(CancellationToken.None);
            await using var agent = await AgentClient.ConnectAsync(stream, WireLimits.Default, BootTimeout, CancellationToken.None);
            var (exitCode, stdout) = await RunAsync(agent, command);
            Assert.Equal(0, exitCode);
            Assert.Equal(expected, stdout);
            if (id == "write")
            {
                Assert.True(new FileInfo(Path.Combine(spec.WorkDir, "root.qcow2")).Length > 200 * 1024, "the write must land in the overlay");
            }

            await agent.ShutdownAsync(CancellationToken.None);
            Assert.Equal(0, await vm.Exited.WaitAsync(BootTimeout));
        }

        Assert.Equal(baseBefore, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(spec0.Assets.BaseImagePath))));
    }

    [BootAssetsFact]
    public async Task A_workspace_disk_is_mounted_writable_over_its_read_only_image()
    {
        var image = await TestExt4.MakeAsync(_dir, "workspace.ext4", 16L << 20);
        File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var before = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(image)));
        var spec = Spec("workspace") with { WorkspaceImagePath = image, ExtraKernelArgs = ["cleanroom.workspace=/workspace"] };

        await using (var vm = await Backend().StartAsync(spec, CancellationToken.None))
        {
            await using var stream = await vm.ConnectAgentAsync(CancellationToken.None);
            await using var agent = await AgentClient.ConnectAsync(stream, WireLimits.Default, BootTimeout, CancellationToken.None);
            var (exitCode, stdout) = await RunAsync(agent,
                "cat /workspace/hello && echo changed > /workspace/hello && echo new > /workspace/new && sync && cat /workspace/hello /workspace/new && awk '$2 == \"/workspace\" {print $3}' /proc/mounts");
            Assert.True(exitCode == 0, stdout);
            Assert.Equal(TestExt4.HelloContent + "changed\nnew\noverlay\n", stdout);
            await agent.ShutdownAsync(CancellationToken.None);
            Assert.Equal(0, await vm.Exited.WaitAsync(BootTimeout));
        }

        // The image is shared by every sandbox on the same commit: the guest's changes never reach it.
        Assert.Equal(before, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(image))));
    }

    [BootAssetsFact]
    public async Task A_guest_asked_for_a_workspace_without_its_disk_does_not_come_up()
    {
        var spec = Spec("no-workspace") with { ExtraKernelArgs = ["cleanroom.workspace=/workspace"], KeepLogs = true };
        await using (var vm = await Backend().StartAsync(spec, CancellationToken.None))
        {
            Assert.Equal(0, await vm.Exited.WaitAsync(BootTimeout)); // the agent powers off instead of serving
        }

        Assert.Contains("attached no disk with serial cr-workspace", await File.ReadAllTextAsync(Path.Combine(spec.WorkDir, "console.log")), StringComparison.Ordinal);
    }

    [BootAssetsFact]
    public async Task A_vmm_over_its_memory_limit_is_killed_and_says_why()
    {
        if (Environment.UserName != "root")
        {
            return; // memory limits need the cgroups only a root daemon creates
        }

        // An allowance far below what QEMU needs for a guest that fills its memory: the cgroup must kill it.
        var backend = new QemuBackend(BootAssets.Load(TestAssets.Directory!), new QemuBackendOptions { Accel = AccelMode.Auto, CgroupMemoryOverheadMiB = -220 });
        await using var vm = await backend.StartAsync(Spec("oom") with { MemoryMiB = 256 }, CancellationToken.None);
        await using var stream = await vm.ConnectAgentAsync(CancellationToken.None);
        await using var agent = await AgentClient.ConnectAsync(stream, WireLimits.Default, BootTimeout, CancellationToken.None);
        Assert.False(vm.WasKilledForMemory);
        var process = await agent.StartAsync(new ExecRequest { Argv = ["sh", "-c", "mount -t tmpfs -o size=240m t /mnt && head -c 230m /dev/zero > /mnt/fill"] }, CancellationToken.None);
        await process.CloseStdinAsync(CancellationToken.None);

        var exit = await vm.Exited.WaitAsync(BootTimeout);
        Assert.Equal(128 + 9, exit);
        Assert.True(vm.WasKilledForMemory);
    }

    [BootAssetsFact]
    public async Task What_each_vcpu_does_is_seen_from_outside_halted_in_the_kernel_or_spinning_in_user_space()
    {
        await using var vm = await Backend().StartAsync(Spec("cpus") with { Vcpus = 2 }, CancellationToken.None);
        await using var stream = await vm.ConnectAgentAsync(CancellationToken.None);
        await using var agent = await AgentClient.ConnectAsync(stream, WireLimits.Default, BootTimeout, CancellationToken.None);

        // An idle guest: both vCPUs wait in the kernel's idle loop.
        var idle = await UntilDescribedAsync(vm, d => d.Split("; ").All(cpu => cpu.Contains(" halted in the kernel at ", StringComparison.Ordinal)));
        Assert.Matches("^vCPU 0 halted in the kernel at [0-9a-f]{16}; vCPU 1 halted in the kernel at [0-9a-f]{16}$", idle);

        // A program that spins: a vCPU runs it in user space (sampled, so looked at until seen).
        var spin = await agent.StartAsync(new ExecRequest { Argv = ["sh", "-c", "while :; do :; done"] }, CancellationToken.None);
        var busy = await UntilDescribedAsync(vm, d => d.Contains(" running in user space at ", StringComparison.Ordinal));
        output.WriteLine($"idle: {idle}\nbusy: {busy}");
        Assert.Matches("^vCPU 0 [a-z ]+ at [0-9a-f]{16}; vCPU 1 [a-z ]+ at [0-9a-f]{16}$", busy);

        await spin.SignalAsync(9, CancellationToken.None);
        await agent.ShutdownAsync(CancellationToken.None);
        Assert.Equal(0, await vm.Exited.WaitAsync(BootTimeout));
    }

    /// <summary>Asks QEMU what the vCPUs do until <paramref name="holds"/>; bounded, since each answer is a sample.</summary>
    private static async Task<string> UntilDescribedAsync(IVm vm, Func<string, bool> holds)
    {
        var last = "";
        for (var attempt = 0; attempt < 500; attempt++)
        {
            last = await vm.DescribeCpusAsync(CancellationToken.None) ?? throw new InvalidOperationException("QEMU did not describe its vCPUs");
            if (holds(last))
            {
                return last;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"the vCPUs were never seen so; last: {last}");
    }

    /// <summary>Runs <paramref name="command"/> with sh in the guest; its exit code and standard output.</summary>
    private static async Task<(int ExitCode, string Stdout)> RunAsync(AgentClient agent, string command)
    {
        var process = await agent.StartAsync(new ExecRequest { Argv = ["sh", "-c", command] }, CancellationToken.None);
        await process.CloseStdinAsync(CancellationToken.None);
        var stdout = new StringBuilder();
        while (await process.ReadOutputAsync(CancellationToken.None) is { } chunk)
        {
            stdout.Append(Encoding.UTF8.GetString(chunk.Data.Span));
        }

        return ((await process.Exited.WaitAsync(BootTimeout)).ExitCode, stdout.ToString());
    }

    private static QemuBackend Backend() => new(BootAssets.Load(TestAssets.Directory!), new QemuBackendOptions { Accel = AccelMode.Auto });

    private VmSpec Spec(string id = "real") => new(id, _dir.Combine(id), BootAssets.Load(TestAssets.Directory!), MemoryMiB: 512);

    private static (long, DateTime) Stamp(string path) => (new FileInfo(path).Length, File.GetLastWriteTimeUtc(path));
}
