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
    /// Applies <paramref name="options"/>' sandbox settings in order: hostname and machine id, hardware address
    /// (before the card is configured), then the workspace and the network side by side. <paramref name="reloadWorkspaceDisk"/> first makes the kernel re-read the
    /// workspace disk (a restored VM still sees the template's placeholder). Throws <see cref="InitException"/> when
    /// the address or the workspace cannot be set up; network trouble is only logged, as <see cref="GuestNetwork"/> does.
    /// <paramref name="timings"/>, when given, records how long each step took.
    /// </summary>
    public static void Apply(BootOptions options, bool reloadWorkspaceDisk, StepTimings? timings = null)
    {
        SandboxIdentity.Apply(options.HostName, options.MachineId);
        timings?.Mark("identity");
        if (options.Mac is { } mac && MacAddress.Parse(mac) is { } address && NetworkCardAddress.Set(address) is { } addressError)
        {
            throw new InitException(addressError);
        }

        timings?.Mark("mac");

        // The card's bring-up (the kernel fills its receive ring as it comes up) and the workspace's mount each take
        // tens of milliseconds under TCG and need nothing from each other, so the network is configured on a second
        // thread meanwhile (another vCPU); both are done when this returns.
        var networkTime = TimeSpan.Zero;
        var network = WorkerThreads.Run(() =>
        {
            var started = Stopwatch.GetTimestamp();
            GuestNetwork.Configure(options.Network, options.Network6);
            networkTime = Stopwatch.GetElapsedTime(started);
        });
        try
        {
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
            // The workspace's error is the one reported; the network's thread still finishes first.
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

        // What the network took beyond the workspace, then what it took in all.
        timings?.Mark("network wait");
        timings?.Beside("network", networkTime);
    }
}
