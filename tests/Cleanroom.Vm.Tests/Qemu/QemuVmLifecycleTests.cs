using System.Diagnostics;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Qemu;

/// <summary>
/// The QEMU process lifecycle against a real QEMU (TCG), booting <see cref="TinyKernel"/> so each VM takes a
/// fraction of a second and no boot assets are needed.
/// </summary>
[Collection(SerialQemuTests.Name)]
public sealed class QemuVmLifecycleTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [QemuFact]
    public async Task A_running_vm_has_its_files_serves_the_agent_socket_and_stops_via_qmp()
    {
        var backend = Backend();
        var spec = Spec(exitAfterMarker: false);
        var vm = await backend.StartAsync(spec, CancellationToken.None);
        await using (vm)
        {
            Assert.True(vm.Pid > 0);
            Assert.Equal(vm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(Path.Combine(spec.WorkDir, "run", "qemu.pid"))).Trim());
            foreach (var file in (string[])["root.qcow2", "run/agent.sock", "run/qmp.sock", "console.log", "qemu.stderr"])
            {
                Assert.True(File.Exists(Path.Combine(spec.WorkDir, file)), file);
            }

            var overlay = await HostTools.RunAsync(HostTools.QemuImgPath!, "info", "-U", Path.Combine(spec.WorkDir, "root.qcow2"));
            Assert.Contains($"backing file: {spec.Assets.BaseImagePath}", overlay.Stdout, StringComparison.Ordinal);

            await using (var agent = await vm.ConnectAgentAsync(CancellationToken.None))
            {
                Assert.True(agent.CanRead && agent.CanWrite);
            }

            await WaitForConsoleAsync(vm, TinyKernel.Marker);
            Assert.False(vm.Exited.IsCompleted);

            var stopwatch = Stopwatch.StartNew();
            await vm.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"QMP quit took {stopwatch.Elapsed}");
            Assert.Equal(0, await vm.Exited);
        }

        Assert.False(Directory.Exists(spec.WorkDir), "DisposeAsync must remove the work directory it created");
        Assert.False(Posix.Exists(vm.Pid) && IsQemu(vm.Pid));
    }

    [QemuFact]
    public async Task A_guest_that_powers_off_completes_exited_with_zero_and_keep_logs_keeps_only_logs()
    {
        var spec = Spec(exitAfterMarker: true) with { KeepLogs = true };
        await using (var vm = await Backend().StartAsync(spec, CancellationToken.None))
        {
            Assert.Equal(0, await vm.Exited.WaitAsync(Wait));
        }

        Assert.Equal(["console.log", "qemu.stderr"], Directory.GetFiles(spec.WorkDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains(TinyKernel.Marker, await File.ReadAllTextAsync(Path.Combine(spec.WorkDir, "console.log")), StringComparison.Ordinal);
    }

    [QemuFact]
    public async Task Connecting_to_the_agent_of_an_exited_vm_fails_with_the_exit()
    {
        await using var vm = await Backend().StartAsync(Spec(exitAfterMarker: true), CancellationToken.None);
        await vm.Exited.WaitAsync(Wait);
        var ex = await Assert.ThrowsAsync<VmException>(() => vm.ConnectAgentAsync(CancellationToken.None));
        Assert.Contains("QEMU exited with code 0 before the agent could be reached", ex.Message, StringComparison.Ordinal);
        Assert.Contains(TinyKernel.Marker, ex.Message, StringComparison.Ordinal);
    }

    [QemuFact]
    public async Task Qemu_failing_at_start_surfaces_its_stderr_and_leaves_nothing()
    {
        var spec = Spec(exitAfterMarker: true);
        spec = spec with { Assets = spec.Assets with { KernelPath = _dir.WriteFile("not-a-kernel", "garbage") } };
        var ex = await Assert.ThrowsAsync<VmException>(() => Backend().StartAsync(spec, CancellationToken.None));
        Assert.Contains("QEMU exited during start with code 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("qemu stderr (last lines):", ex.Message, StringComparison.Ordinal);
        Assert.Contains("linux kernel too old to load a ram disk", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(spec.WorkDir));
    }

    [QemuFact]
    public async Task A_wedged_qemu_is_escalated_to_sigkill()
    {
        await using var vm = await Backend().StartAsync(Spec(exitAfterMarker: false), CancellationToken.None);

        // A stopped process neither answers QMP nor acts on SIGTERM; only SIGKILL gets through.
        await HostTools.RunAsync("/bin/kill", "-STOP", vm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var stopwatch = Stopwatch.StartNew();
        await vm.StopAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None);
        Assert.Equal(137, await vm.Exited);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(550), TimeSpan.FromSeconds(5));
    }

    [QemuFact]
    public async Task Cancelling_a_stop_kills_immediately()
    {
        await using var vm = await Backend().StartAsync(Spec(exitAfterMarker: false), CancellationToken.None);
        await HostTools.RunAsync("/bin/kill", "-STOP", vm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await vm.StopAsync(TimeSpan.FromSeconds(30), cts.Token);
        Assert.Equal(137, await vm.Exited);
    }

    [QemuFact]
    public async Task Dispose_is_idempotent_and_safe_after_exit()
    {
        var vm = await Backend().StartAsync(Spec(exitAfterMarker: true), CancellationToken.None);
        await vm.Exited.WaitAsync(Wait);
        await vm.DisposeAsync();
        await vm.DisposeAsync();
        Assert.False(Directory.Exists(vm.WorkDir));
    }

    [QemuFact]
    public async Task A_disk_floor_boots_a_grown_private_copy_that_goes_with_the_vm()
    {
        const long MiB = 1024 * 1024;
        var image = await TestExt4.MakeAsync(_dir, "image.ext4", 8 * MiB);
        var spec = Spec(exitAfterMarker: false) with { RootImagePath = image, RootDiskMinBytes = 16 * MiB };
        await using (var vm = await Backend().StartAsync(spec, CancellationToken.None))
        {
            var copy = Path.Combine(spec.WorkDir, "root.ext4");
            Assert.Equal(16 * MiB, await TestExt4.FilesystemBytesAsync(copy));
            var overlay = await HostTools.RunAsync(HostTools.QemuImgPath!, "info", "-U", Path.Combine(spec.WorkDir, "root.qcow2"));
            Assert.Contains($"backing file: {copy}", overlay.Stdout, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(spec.WorkDir), "the grown copy must go with the VM, and the work directory it created with it");
        Assert.Equal(8 * MiB, await TestExt4.FilesystemBytesAsync(image));
    }

    [QemuFact]
    public async Task Leftovers_of_a_crashed_daemon_are_killed_and_unrelated_pids_spared()
    {
        var root = _dir.Combine("sandboxes");
        var vm = await Backend().StartAsync(Spec(exitAfterMarker: false, root: root), CancellationToken.None);
        try
        {
            // A pid file whose pid now belongs to something else (this test process) must not be touched.
            var reused = Path.Combine(root, "reused");
            Directory.CreateDirectory(Path.Combine(reused, "run"));
            await File.WriteAllTextAsync(Path.Combine(reused, "run", "qemu.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

            var stale = QemuLeftovers.KillStale(root);

            Assert.Equal(2, stale.Count);
            Assert.Contains(new StaleQemu(vm.Pid, vm.WorkDir, true, "killed"), stale);
            var spared = Assert.Single(stale, s => s.WorkDir == reused);
            Assert.False(spared.Killed);
            Assert.Contains("another process", spared.Note, StringComparison.Ordinal);
            Assert.Equal(137, await vm.Exited.WaitAsync(Wait));
            Assert.False(File.Exists(Path.Combine(reused, "run", "qemu.pid")));
        }
        finally
        {
            await vm.DisposeAsync();
        }
    }

    private static QemuBackend Backend() =>
        new(new Assets.BootAssets("/unused", "/unused", "/unused"), new QemuBackendOptions { Accel = AccelMode.Tcg, TscKhz = 1_000_000 });

    private VmSpec Spec(bool exitAfterMarker, string? root = null)
    {
        var id = "vm" + Guid.NewGuid().ToString("N")[..8];
        return new VmSpec(id, Path.Combine(root ?? _dir.Path, id), TinyVm.Assets(_dir, exitAfterMarker), MemoryMiB: 64);
    }

    private static async Task WaitForConsoleAsync(IVm vm, string text)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!(await File.ReadAllTextAsync(vm.ConsoleLogPath)).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' did not appear on the console");
            await Task.Delay(20);
        }
    }

    private static bool IsQemu(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("qemu-system", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
