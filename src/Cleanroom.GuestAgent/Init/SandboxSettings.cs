using System.Diagnostics;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// What makes a VM one particular sandbox: its name and machine id, its network card's address, its workspace and its
/// network. One method for both ways a sandbox starts, so a cold boot (settings on the kernel command line) and a VM
/// restored from a template (settings in the host's configure request) are set up by the same code.
/// </summary>
internal static class SandboxSettings
{
    /// <summary>
    /// Applies <paramref name="options"/>' sandbox settings: hostname and machine id, then the workspace; beside them the
    /// card's hardware address, then the network. <paramref name="reloadWorkspaceDisk"/> first makes the kernel re-read the
    /// workspace disk (a restored VM still sees the template's placeholder). Throws <see cref="InitException"/> when
    /// the address or the workspace cannot be set up, once both sequences are done; network trouble is only logged, as <see cref="GuestNetwork"/> does.
    /// <paramref name="timings"/>, when given, records how long each step took.
    /// </summary>
    public static void Apply(BootOptions options, bool reloadWorkspaceDisk, StepTimings? timings = null)
    {
        // The card's address and network on a second thread (another vCPU), the identity and the workspace here: each
        // step takes milliseconds to tens of them under TCG (bringing the card up makes the kernel fill its receive
        // ring; /etc and the workspace are file system work), and the two sequences need nothing from each other.
        var networkTime = TimeSpan.Zero;
        var network = WorkerThreads.Run(() =>
        {
            var started = Stopwatch.GetTimestamp();
            if (options.Mac is { } mac && MacAddress.Parse(mac) is { } address && NetworkCardAddress.Set(address) is { } addressError)
            {
                throw new InitException(addressError);
            }

            GuestNetwork.Configure(options.Network, options.Network6);
            networkTime = Stopwatch.GetElapsedTime(started);
        });
        try
        {
            SandboxIdentity.Apply(options.HostName, options.MachineId);
            timings?.Mark("identity");
            if (options.WorkspacePath is { } workspace)
            {
                if (reloadWorkspaceDisk && WorkspaceDisk.Reload() is { } reloadError)
                {
                    throw new InitException(reloadError);
                }

                WorkspaceMount.Mount(workspace, options.WorkspaceOwner);
                timings?.Mark("workspace");
            }
        }
        catch
        {
            // This thread's error is the one reported; the network's thread still finishes first.
            try
            {
                network.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                AgentLog.Error("network: " + ex.Message);
            }

            throw;
        }

        network.GetAwaiter().GetResult();

        // What the card took beyond this thread's steps, then what it took in all.
        timings?.Mark("network wait");
        timings?.Beside("mac and network", networkTime);
    }
}
