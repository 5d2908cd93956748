using System.CommandLine;
using Cleanroom.Cli.Workspaces;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom workspace copy-in ID</c>: the local uncommitted changes into a kept sandbox's workspace.</summary>
internal sealed class WorkspaceCopyInCommand : Command
{
    private readonly WorkspaceTarget _target = new();

    public WorkspaceCopyInCommand(CliContext context, DaemonAccess daemon)
        : base("copy-in", "Copy the local uncommitted changes into the sandbox's workspace")
    {
        _target.AddTo(this);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            if (await _target.ResolveAsync(parse, context, connection, cancellationToken) is not { } target)
            {
                return ExitCodes.Failure;
            }

            var count = await WorkspaceTransfer.CopyInAsync(connection, target.SandboxId, target.Root, target.Workspace.Commit, cancellationToken);
            await context.Error.WriteLineAsync($"cleanroom: copied {count} local change{(count == 1 ? "" : "s")} into the sandbox");
            return ExitCodes.Success;
        }, cancellationToken));
    }
}
