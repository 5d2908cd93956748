using System.CommandLine;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom execution</c>: the group of commands about past and running executions.</summary>
internal sealed class ExecutionCommand : Command
{
    public ExecutionCommand(CliContext context, DaemonAccess daemon)
        : base("execution", "List and inspect executions")
    {
        Add(new ExecutionLsCommand(context, daemon));
        Add(new ExecutionInspectCommand(context, daemon));
    }
}
