using System.CommandLine;
using Cleanroom.Cli.Workspaces;
using Cleanroom.Escaping;
using Cleanroom.Workspaces.Changes;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom workspace copy-out ID [--dry-run] [--force] [--json]</c>: the sandbox's workspace changes into the
/// local working tree, all or nothing; local edits made since the sandbox started are not overwritten without --force.
/// </summary>
internal sealed class WorkspaceCopyOutCommand : Command
{
    private readonly WorkspaceTarget _target = new();
    private readonly FlagOption _dryRun = new("--dry-run", "Show what would change; touch nothing");
    private readonly FlagOption _force = new("--force", "Overwrite local edits made since the sandbox started");
    private readonly JsonOption _json = new();

    public WorkspaceCopyOutCommand(CliContext context, DaemonAccess daemon)
        : base("copy-out", "Copy the sandbox's workspace changes into the local working tree")
    {
        _target.AddTo(this);
        Options.Add(_dryRun);
        Options.Add(_force);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            if (await _target.ResolveAsync(parse, context, connection, cancellationToken) is not { } target)
            {
                return ExitCodes.Failure;
            }

            var options = new CopyOutOptions { DryRun = parse.GetValue(_dryRun), Force = parse.GetValue(_force) };
            var result = await WorkspaceTransfer.CopyOutAsync(connection, target.SandboxId, target.Root, options, cancellationToken);
            if (parse.GetValue(_json))
            {
                await context.Out.WriteLineAsync(result.ToJson());
            }
            else
            {
                foreach (var (status, paths) in new[] { ("A", result.Added), ("M", result.Modified), ("T", result.ModeChanged), ("D", result.Deleted) })
                {
                    foreach (var path in paths)
                    {
                        // Escaped: a byte that is not UTF-8 shows as \xNN, a tab cannot break the columns.
                        await context.Out.WriteLineAsync($"{status}\t{UntrustedText.Escape(path)}");
                    }
                }

                foreach (var conflict in result.Conflicts)
                {
                    await context.Out.WriteLineAsync($"C\t{UntrustedText.Escape(conflict.Path)}");
                }

                await context.Error.WriteLineAsync("cleanroom: " + result.Summary());
            }

            return result.Outcome == CopyOutOutcome.Conflicts ? ExitCodes.Failure : ExitCodes.Success;
        }, cancellationToken));
    }
}
