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
    /// (before the card is configured), workspace, network. <paramref name="reloadWorkspaceDisk"/> first makes the kernel re-read the
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

        if (options.WorkspacePath is { } workspace)
        {
            if (reloadWorkspaceDisk && WorkspaceDisk.Reload() is { } reloadError)
            {
                throw new InitException(reloadError);
            }

            WorkspaceMount.Mount(workspace, options.WorkspaceOwner);
            timings?.Mark("workspace");
        }

        GuestNetwork.Configure(options.Network, options.Network6);
        timings?.Mark("network");
    }
}
