using System.Globalization;
using System.Text.Json;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Qemu.Confinement;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Qemu;

/// <summary>
/// What confinement guarantees about a running QEMU, checked from the outside (/proc, cgroupfs, the VM's own mount
/// namespace) on two real QEMU processes (TCG, <see cref="TinyKernel"/>) that run at the same time.
/// </summary>
[Collection(SerialQemuTests.Name)]
public sealed class ConfinementTests : IDisposable
{
    private const string MarkerVariable = "CLEANROOM_CONFINEMENT_TEST_MARKER";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [RootQemuFact]
    public async Task Each_vm_runs_as_its_own_uid_without_privileges_environment_or_a_view_of_other_vms()
    {
        Environment.SetEnvironmentVariable(MarkerVariable, "must-not-reach-qemu");
        var options = Options();
        var backend = new QemuBackend(new Assets.BootAssets("/unused", "/unused", "/unused"), options);
        var a = (QemuVm)await backend.StartAsync(Spec("vma"), CancellationToken.None);
        await using (a)
        {
            var b = (QemuVm)await backend.StartAsync(Spec("vmb"), CancellationToken.None);
            await using (b)
            {
                foreach (var vm in new[] { a, b })
                {
                    var status = Status(vm.Pid);
                    var uid = Assert.Single(status["Uid"].Split('\t').Distinct());
                    Assert.Equal(vm.Uid.ToString(), uid);
                    Assert.InRange(vm.Uid!.Value, options.FirstVmUid, options.FirstVmUid + options.VmUidCount - 1);
                    Assert.Equal(uid, Assert.Single(status["Gid"].Split('\t').Distinct()));
                    Assert.Equal(string.Empty, status["Groups"]);
                    Assert.Equal("2", status["Seccomp"]);
                    Assert.Equal("1", status["NoNewPrivs"]);
                    Assert.Equal("0000000000000000", status["CapEff"]);
                    Assert.Equal("0000000000000000", status["CapPrm"]);
                    Assert.Equal("0000000000000000", status["CapBnd"]);

                    var environment = File.ReadAllText($"/proc/{vm.Pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
                    Assert.Equal(["LANG=C", "PATH=/usr/bin:/bin"], environment.Order(StringComparer.Ordinal));
                }

                Assert.NotEqual(a.Uid, b.Uid);

                // Host side: the overlay and the socket directory belong to the VM and no one else.
                var overlayB = Path.Combine(b.WorkDir, "root.qcow2");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(overlayB));
                Assert.Equal(b.Uid, await OwnerAsync(overlayB));
                Assert.Equal(b.Uid, await OwnerAsync(Path.Combine(b.WorkDir, "run")));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(b.WorkDir, "run")));
                var asA = await HostTools.TryRunAsync("setpriv", $"--reuid={a.Uid}", $"--regid={a.Uid}", "--clear-groups", "--", "cat", overlayB);
                Assert.NotEqual(0, asA.ExitCode);
                Assert.Contains("Permission denied", asA.Stderr, StringComparison.Ordinal);

                // Inside A's mount namespace: its own files exist, B's and the rest of the host do not.
                Assert.Equal(0, await InNamespaceAsync(a, "test", "-r", Path.Combine(a.WorkDir, "root.qcow2")));
                Assert.Equal(0, await InNamespaceAsync(a, "test", "-S", Path.Combine(a.WorkDir, "run", "qmp.sock")));
                Assert.Equal(1, await InNamespaceAsync(a, "test", "-e", overlayB));
                Assert.Equal(1, await InNamespaceAsync(a, "test", "-e", b.WorkDir));
                Assert.Equal(1, await InNamespaceAsync(a, "test", "-e", "/etc/passwd"));
                Assert.Equal(1, await InNamespaceAsync(a, "test", "-e", "/root"));
                Assert.Equal(1, await InNamespaceAsync(a, "test", "-e", "/proc/1"));
                Assert.NotEqual(0, await InNamespaceAsync(a, "touch", "/new-file")); // the jail root is read-only
            }
        }
    }

    [CgroupQemuFact]
    public async Task The_vm_cgroup_has_memory_and_pids_limits_while_it_runs_and_is_gone_after()
    {
        var options = Options() with { CgroupMemoryOverheadMiB = 200, CgroupPidsMax = 99 };
        var backend = new QemuBackend(new Assets.BootAssets("/unused", "/unused", "/unused"), options);
        var host = backend.Cgroups;

        var vm = (QemuVm)await backend.StartAsync(Spec("vmcg"), CancellationToken.None);
        IReadOnlyList<string> dirs;
        await using (vm)
        {
            dirs = vm.CgroupDirectories;
            Assert.NotEmpty(dirs);
            Assert.All(dirs, d => Assert.Equal("vmcg", Path.GetFileName(d)));
            // Guest memory, the allowance, and TCG's translation cache (these tests run QEMU under TCG).
            var limit = ((64L + 200 + QemuCommandLine.TcgTranslationCacheMiB) * 1024 * 1024).ToString(CultureInfo.InvariantCulture);
            var pid = vm.Pid.ToString(CultureInfo.InvariantCulture);
            if (host.Version == CgroupVersion.V1)
            {
                var memory = Assert.Single(dirs, d => d.StartsWith(Path.GetDirectoryName(host.Parents["memory"])!, StringComparison.Ordinal));
                var pids = Assert.Single(dirs, d => d.StartsWith(Path.GetDirectoryName(host.Parents["pids"])!, StringComparison.Ordinal));
                Assert.Equal(limit, Read(memory, "memory.limit_in_bytes"));
                Assert.Equal("99", Read(pids, "pids.max"));
                Assert.Contains(pid, Read(memory, "cgroup.procs").Split('\n'));
                Assert.Contains(pid, Read(pids, "cgroup.procs").Split('\n'));

                // v1 places threads one by one (the jail moves the thread that execs QEMU): every one of QEMU's is in.
                var threads = Directory.GetDirectories($"/proc/{pid}/task").Select(Path.GetFileName).ToArray();
                Assert.NotEmpty(threads);
                Assert.All(threads, t => Assert.Contains(t, Read(memory, "tasks").Split('\n')));
                Assert.All(threads, t => Assert.Contains(t, Read(pids, "tasks").Split('\n')));
            }
            else
            {
                var dir = Assert.Single(dirs);
                Assert.Equal(limit, Read(dir, "memory.max"));
                Assert.Equal("99", Read(dir, "pids.max"));
                Assert.Contains(pid, Read(dir, "cgroup.procs").Split('\n'));
            }
        }

        Assert.All(dirs, d => Assert.False(Directory.Exists(d), $"{d} must be removed with the VM"));
    }

    [RootQemuFact]
    public async Task Qemu_cannot_spawn_a_process_so_an_exec_migration_kills_it_without_running_anything()
    {
        var witness = _dir.Combine("exec-migration-ran");
        var backend = new QemuBackend(new Assets.BootAssets("/unused", "/unused", "/unused"), Options());
        var vm = (QemuVm)await backend.StartAsync(Spec("vmexec"), CancellationToken.None);
        await using (vm)
        {
            using var arguments = JsonDocument.Parse(JsonSerializer.Serialize(new { uri = $"exec:touch {witness}" }));
            try
            {
                await vm.Qmp.ExecuteAsync("migrate", arguments.RootElement, CancellationToken.None);
            }
            catch (Exception ex) when (ex is Cleanroom.Vm.Qemu.Qmp.QmpException or IOException)
            {
                // QEMU refused, or died before it could answer: both mean nothing ran.
            }

            // SIGSYS (31) is the seccomp filter killing QEMU for trying to fork.
            Assert.Equal(128 + 31, await vm.Exited.WaitAsync(Wait));
        }

        Assert.False(File.Exists(witness), "the exec: migration ran a host command");
    }

    private static QemuBackendOptions Options() => new() { Accel = AccelMode.Tcg, TscKhz = 1_000_000 };

    private VmSpec Spec(string id) => new(id, _dir.Combine(id), TinyVm.Assets(_dir, exitAfterMarker: false), MemoryMiB: 64);

    private static Dictionary<string, string> Status(int pid) =>
        File.ReadAllLines($"/proc/{pid}/status")
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim());

    private static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file)).Trim();

    private static async Task<int?> OwnerAsync(string path) =>
        int.Parse((await HostTools.RunAsync("stat", "-c", "%u", path)).Stdout.Trim(), CultureInfo.InvariantCulture);

    /// <summary>Runs a command (as root) in <paramref name="vm"/>'s mount namespace, rooted in its jail; returns the exit code.</summary>
    private static async Task<int> InNamespaceAsync(QemuVm vm, params string[] command) =>
        (await HostTools.TryRunAsync("nsenter", ["-t", vm.Pid.ToString(CultureInfo.InvariantCulture), "-m", "-r", "--", .. command])).ExitCode;
}
