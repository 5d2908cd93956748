using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu.Confinement;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class QemuLauncherTests
{
    [Fact]
    public void A_root_launch_runs_the_jail_launcher_with_every_value_as_its_own_argument()
    {
        var launch = QemuLauncher.Build("/usr/bin/qemu-system-x86_64", ["-m", "64", "-name", "a;rm -rf /"], new QemuConfinement
        {
            User = (1900000005, 1900000005),
            JailMountPoint = "/var/lib/cr/sandboxes/x/jail",
            ReadOnlyPaths = ["/usr", "/a/vmlinux"],
            ReadWritePaths = ["/var/lib/cr/sandboxes/x/"],
            CgroupProcsFiles = ["/sys/fs/cgroup/pids/cleanroom/x/tasks"],
        });

        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "cleanroom-jail"), launch.FileName);
        Assert.Equal(
            [
                "cgroup:/sys/fs/cgroup/pids/cleanroom/x/tasks", "user:1900000005:1900000005", "jail:/var/lib/cr/sandboxes/x/jail",
                "ro:/usr", "ro:/a/vmlinux", "rw:/var/lib/cr/sandboxes/x",
                "--", "/usr/bin/qemu-system-x86_64", "-m", "64", "-name", "a;rm -rf /",
            ],
            launch.Arguments);
        Assert.Equal(ProcessLaunch.ScrubbedEnvironment, launch.Environment);
    }

    [Fact]
    public void Binds_without_a_jail_and_relative_paths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => QemuLauncher.Build("/q", [], new QemuConfinement { ReadOnlyPaths = ["/usr"] }));
        Assert.Throws<ArgumentException>(() => QemuLauncher.Build("/q", [], new QemuConfinement { JailMountPoint = "/j", ReadWritePaths = ["work"] }));
    }

    [Fact]
    public async Task Without_a_uid_switch_the_launcher_still_clears_the_environment_and_sets_no_new_privs()
    {
        Environment.SetEnvironmentVariable("CLEANROOM_LAUNCHER_TEST_MARKER", "secret");

        // HostCommand passes this test's environment to the launcher; the launcher itself must drop it.
        var env = await RunAsync(QemuLauncher.Build("/usr/bin/env", [], QemuConfinement.Minimal));
        Assert.Equal(["LANG=C", "PATH=/usr/bin:/bin"], env.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

        var status = await RunAsync(QemuLauncher.Build("/usr/bin/grep", ["NoNewPrivs", "/proc/self/status"], QemuConfinement.Minimal));
        Assert.Equal("NoNewPrivs:\t1\n", status.Stdout);
    }

    [RootQemuFact]
    public async Task A_failing_step_stops_before_the_command_runs()
    {
        using var dir = new TempDir();
        var witness = dir.Combine("ran");
        var launch = QemuLauncher.Build("/usr/bin/touch", [witness], new QemuConfinement { CgroupProcsFiles = [dir.Combine("no-such-cgroup", "tasks")] });
        var result = await RunAsync(launch);

        Assert.Equal(QemuLauncher.SetupFailedExitCode, result.ExitCode);
        Assert.Contains("cannot join cgroup", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(witness));
    }

    [RootQemuFact]
    public async Task A_jail_shows_only_its_binds_read_only_except_the_work_directory_to_an_unprivileged_uid()
    {
        using var dir = new TempDir();
        var work = dir.Combine("work");
        Directory.CreateDirectory(Path.Combine(work, "jail"));
        File.SetUnixFileMode(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_111_111);
        var shown = dir.WriteFile("shown", "x");
        var hidden = dir.WriteFile("hidden", "x");
        var check = string.Join(" && ", $"test -r {shown}", $"! test -e {hidden}", "! test -e /etc/passwd", "! test -e /proc/1",
            $"! touch {shown}", "! touch /new", $"touch {work}/written", "test -c /dev/null", "test \"$(id -u)\" = 1900000999");
        var launch = QemuLauncher.Build("/bin/sh", ["-c", check], new QemuConfinement
        {
            User = (1900000999, 1900000999),
            JailMountPoint = Path.Combine(work, "jail"),

            // /usr/bin/id lies inside the /usr bind: binding it again must not try to create it there.
            ReadOnlyPaths = [.. QemuConfinement.SystemPaths, shown, "/usr/bin/id"],
            ReadWritePaths = [work],
        });

        var result = await RunAsync(launch);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.True(File.Exists(Path.Combine(work, "written")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(work, "jail"))); // the host never sees the jail's contents
    }

    [RootQemuFact]
    public async Task A_jail_that_asks_for_it_has_a_proc_showing_only_its_own_processes()
    {
        using var dir = new TempDir();
        var jail = dir.Combine("jail");
        Directory.CreateDirectory(jail);
        var launch = QemuLauncher.Build("/bin/sh", ["-c", "test -e /proc/self/status && ! test -e /proc/1 && ! test -e /proc/sys && ls /proc"], new QemuConfinement
        {
            User = (1900000999, 1900000999),
            JailMountPoint = jail,
            ReadOnlyPaths = QemuConfinement.SystemPaths,
            OwnProcessesProc = true,
        });

        var result = await RunAsync(launch);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
        Assert.DoesNotContain(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Stdout.Split('\n'));
    }

    [Fact]
    public async Task A_malformed_step_is_refused_before_anything_is_done()
    {
        using var dir = new TempDir();
        var witness = dir.Combine("ran");

        var result = await HostCommand.TryRunAsync(QemuLauncher.HelperPath, ["ro:/usr", "--", "/usr/bin/touch", witness], TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(QemuLauncher.SetupFailedExitCode, result.ExitCode);
        Assert.Contains("ro:/usr before jail", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(witness));
    }

    private static Task<HostCommandResult> RunAsync(ProcessLaunch launch) =>
        HostCommand.TryRunAsync(launch.FileName, launch.Arguments, TimeSpan.FromSeconds(10), CancellationToken.None);
}
