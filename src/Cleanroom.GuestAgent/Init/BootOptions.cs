using System.Text;

namespace Cleanroom.GuestAgent.Init;

/// <summary>The agent's settings from the kernel command line (<c>/proc/cmdline</c>).</summary>
internal sealed record BootOptions
{
    public const string DefaultPortName = "cleanroom.agent";
    public const string DefaultRootDevice = "/dev/vda";

    /// <summary><c>cleanroom.agent_port=NAME</c>: the virtio-serial port name to serve on.</summary>
    public string PortName { get; init; } = DefaultPortName;

    /// <summary><c>cleanroom.probe=1</c>: print the probe marker and power off straight away.</summary>
    public bool Probe { get; init; }

    /// <summary><c>cleanroom.root=DEVICE</c>: the ext4 block device to switch into.</summary>
    public string RootDevice { get; init; } = DefaultRootDevice;

    /// <summary><c>cleanroom.net=ADDRESS/PREFIX,GATEWAY,RESOLVER</c>: the guest's network; none when absent or malformed.</summary>
    public NetworkSettings? Network { get; init; }

    /// <summary><c>cleanroom.net6=ADDRESS/PREFIX,GATEWAY</c>: the guest's IPv6; none (IPv6 off on the card) when absent or malformed.</summary>
    public Ipv6Settings? Network6 { get; init; }

    /// <summary>
    /// <c>cleanroom.workspace=PATH</c>: mount the workspace disk (serial <see cref="WorkspaceMount.DiskSerial"/>) there;
    /// none when absent or not a plain absolute path outside the system directories.
    /// </summary>
    public string? WorkspacePath { get; init; }

    /// <summary>
    /// <c>cleanroom.workspace.owner=USER[:GROUP]</c>: the user (name or number) who should own the workspace, resolved
    /// against the guest's /etc/passwd at mount time; none when absent or not of the allowed characters
    /// (<see cref="WorkspaceOwner.Valid"/>).
    /// </summary>
    public string? WorkspaceOwner { get; init; }

    /// <summary>
    /// <c>cleanroom.template=1</c>: boot without the sandbox's settings (workspace, network) and wait for them in a
    /// configure request from the host, so that this VM can be snapshotted and restored as many sandboxes.
    /// </summary>
    public bool Template { get; init; }

    /// <summary>
    /// <c>cleanroom.mac=xx:xx:xx:xx:xx:xx</c> (lowercase hex, unicast, not all zero): the hardware address to give the
    /// network card before it is configured; none when absent or malformed.
    /// </summary>
    public string? Mac { get; init; }

    /// <summary>
    /// <c>cleanroom.hostname=NAME</c>: the sandbox's hostname (a DNS label: 1-63 lowercase letters, digits and inner
    /// hyphens); none when absent or not one.
    /// </summary>
    public string? HostName { get; init; }

    /// <summary>
    /// <c>cleanroom.machine_id=HEX</c>: the sandbox's machine id for /etc/machine-id (32 lowercase hex digits, not all
    /// zero); none when absent or not one.
    /// </summary>
    public string? MachineId { get; init; }

    /// <summary>Parses a kernel command line; unknown words are ignored and the last occurrence of a key wins.</summary>
    public static BootOptions Parse(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var options = new BootOptions();
        foreach (var word in SplitWords(commandLine))
        {
            var equals = word.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var value = word[(equals + 1)..];
            options = word[..equals] switch
            {
                "cleanroom.agent_port" when value.Length > 0 => options with { PortName = value },
                "cleanroom.probe" => options with { Probe = value == "1" },
                "cleanroom.root" when value.Length > 0 => options with { RootDevice = value },
                "cleanroom.net" => options with { Network = NetworkSettings.Parse(value) },
                "cleanroom.net6" => options with { Network6 = Ipv6Settings.Parse(value) },
                "cleanroom.workspace" => options with { WorkspacePath = ValidWorkspacePath(value) },
                "cleanroom.workspace.owner" => options with { WorkspaceOwner = Init.WorkspaceOwner.Valid(value) },
                "cleanroom.template" => options with { Template = value == "1" },
                "cleanroom.mac" => options with { Mac = MacAddress.Parse(value) is null ? null : value },
                "cleanroom.hostname" => options with { HostName = SandboxIdentity.ValidHostName(value) },
                "cleanroom.machine_id" => options with { MachineId = SandboxIdentity.ValidMachineId(value) },
                _ => options,
            };
        }

        return options;
    }

    /// <summary>
    /// An absolute path of plain segments (no <c>.</c>, <c>..</c>, empty segments or control characters) that is not a
    /// system directory or inside one; null otherwise.
    /// </summary>
    internal static string? ValidWorkspacePath(string value)
    {
        string[] system = ["bin", "boot", "dev", "etc", "lib", "lib64", "proc", "run", "sbin", "sys", "usr", "var"];
        if (value.Length is < 2 or > 256 || value[0] != '/' || value.Any(char.IsControl))
        {
            return null;
        }

        var segments = value[1..].Split('/');
        return segments.Any(s => s.Length == 0 || s is "." or "..") || system.Contains(segments[0], StringComparer.Ordinal) ? null : value;
    }

    /// <summary>Splits on whitespace like the kernel: double quotes group words and are removed.</summary>
    private static List<string> SplitWords(string commandLine)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var inWord = false;
        foreach (var c in commandLine)
        {
            if (c == '"')
            {
                quoted = !quoted;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(current.ToString());
        }

        return words;
    }
}
