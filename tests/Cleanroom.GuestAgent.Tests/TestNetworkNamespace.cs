using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// A network namespace of one test's own holding a veth pair: <c>eth0</c> (left unconfigured and down, the guest's
/// card) and <c>peer0</c> (up, only so eth0 gets a carrier). Deleting the namespace on dispose removes both.
/// </summary>
internal sealed partial class TestNetworkNamespace : IDisposable
{
    public const string Card = "eth0";
    private const int CloneNewNet = 0x40000000;

    private TestNetworkNamespace(string name) => Name = name;

    public string Name { get; }

    public static TestNetworkNamespace Create()
    {
        var ns = new TestNetworkNamespace($"cr-g6-{Guid.NewGuid().ToString("N")[..10]}");
        try
        {
            RunIp(["netns", "add", ns.Name]);
            ns.Ip("link", "add", Card, "type", "veth", "peer", "name", "peer0");
            ns.Ip("link", "set", "peer0", "up");
            return ns;
        }
        catch
        {
            // Even a killed `ip netns add` may have created the namespace: never leave it behind.
            try
            {
                ns.Dispose();
            }
            catch (InvalidOperationException)
            {
                // It was never created.
            }

            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a fresh thread that joined the namespace (setns changes only the calling
    /// thread, and that thread ends with the action, so nothing else ever runs in the namespace).
    /// </summary>
    public void Run(Action action)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var fd = LibC.Open($"/run/netns/{Name}", LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
                Assert.True(fd >= 0, $"open /run/netns/{Name}: errno {Marshal.GetLastPInvokeError()}");
                try
                {
                    Assert.True(SetNs(fd, CloneNewNet) == 0, $"setns: errno {Marshal.GetLastPInvokeError()}");
                }
                finally
                {
                    LibC.Close(fd);
                }

                action();
            }
#pragma warning disable CA1031 // Any failure belongs to the test, on the test's thread.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        })
        {
            IsBackground = true,
            Name = "netns-test",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    /// <summary>Runs <c>ip -n NAME ARGS</c> and returns its output.</summary>
    public string Ip(params string[] args) => RunIp(["-n", Name, .. args]);

    /// <summary>Reads one of the card's IPv6 sysctls as the namespace sees it.</summary>
    public string Sysctl(string name) =>
        RunIp(["netns", "exec", Name, "cat", $"/proc/sys/net/ipv6/conf/{Card}/{name}"]).Trim();

    public void Dispose() => RunIp(["netns", "del", Name]);

    /// <summary>
    /// Runs ip(8) through the agent's own spawner. Never System.Diagnostics.Process here: the agent's reaper (started by
    /// the exec tests in this process) waits for every child, and a Process whose child it reaped never sees it exit.
    /// </summary>
    private static string RunIp(string[] args)
    {
        var output = Path.Combine(Path.GetTempPath(), $"cr-g6-ip-{Guid.NewGuid():N}");
        try
        {
            ProcessExit exit;
            using (var stdin = File.OpenHandle("/dev/null"))
            using (var stdout = File.OpenHandle(output, FileMode.CreateNew, FileAccess.Write))
            {
                var fdIn = (int)stdin.DangerousGetHandle();
                var fdOut = (int)stdout.DangerousGetHandle();
                var spec = new SpawnSpec(File.Exists("/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip", ["ip", .. args], ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "/",
                    new PipeStdio(fdIn, fdOut, fdOut), NewSession: false);
                var (_, exited) = ProcessSpawner.Start(spec, ChildReaper.Shared);

                // Generous: creating a namespace waits for the kernel to finish tearing down earlier ones, which after a
                // test suite that made hundreds of them (the network tests) can take many seconds.
                if (!exited.Wait(TimeSpan.FromMinutes(2)))
                {
                    throw new TimeoutException($"ip {string.Join(' ', args)} did not finish");
                }

                exit = exited.Result;
            }

            var text = File.ReadAllText(output);
            return exit.ExitCode == 0 && exit.Signal == 0
                ? text
                : throw new InvalidOperationException($"ip {string.Join(' ', args)} exited {exit.ExitCode}: {text}");
        }
        finally
        {
            File.Delete(output);
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int type);
}
