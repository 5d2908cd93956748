using System.CommandLine;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom workspace</c>: the sandbox's repository checkout against the local working tree.</summary>
internal sealed class WorkspaceCommand : Command
{
    public WorkspaceCommand(CliContext context, DaemonAccess daemon)
        : base("workspace", "Show and copy a sandbox's changes to its repository checkout")
    {
        Add(new WorkspaceDiffCommand(context, daemon));
        Add(new WorkspaceCopyInCommand(context, daemon));
        Add(new WorkspaceCopyOutCommand(context, daemon));
    }
}
