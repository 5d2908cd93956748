using System.CommandLine;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom sandbox</c>: the group of sandbox lifecycle commands.</summary>
internal sealed class SandboxCommand : Command
{
    public SandboxCommand(CliContext context, DaemonAccess daemon)
        : base("sandbox", "Create, list, inspect and remove sandboxes")
    {
        Add(new SandboxCreateCommand(context, daemon));
        Add(new SandboxLsCommand(context, daemon));
        Add(new SandboxInspectCommand(context, daemon));
        Add(new SandboxRmCommand(context, daemon));
        Add(new SandboxEventsCommand(context, daemon));
    }
}
