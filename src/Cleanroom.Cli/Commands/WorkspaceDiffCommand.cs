using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cleanroom.Cli.Workspaces;
using Cleanroom.Escaping;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom workspace diff ID [--stat] [--json]</c>: what the sandbox changed against the commit it was checked
/// out at (copied-in changes included), one <c>STATUS\tPATH</c> line per path like <c>git diff --name-status</c>.
/// </summary>
internal sealed class WorkspaceDiffCommand : Command
{
    private readonly WorkspaceTarget _target = new();
    private readonly FlagOption _stat = new("--stat", "Sizes per path and a summary line");
    private readonly JsonOption _json = new();

    public WorkspaceDiffCommand(CliContext context, DaemonAccess daemon)
        : base("diff", "Show the sandbox's changes against its checkout")
    {
        _target.AddTo(this);
        Options.Add(_stat);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            if (await _target.ResolveAsync(parse, context, connection, cancellationToken) is not { } target)
            {
                return ExitCodes.Failure;
            }

            var changes = await WorkspaceTransfer.DiffAsync(connection, target.SandboxId, target.Root, cancellationToken);
            if (parse.GetValue(_json))
            {
                await using var json = new Utf8JsonWriter(context.Stdout);
                json.WriteStartObject();
                json.WriteString("sandbox_id", target.SandboxId);
                json.WriteString("commit", target.Workspace.Commit);
                json.WriteStartArray("changes");
                foreach (var change in changes)
                {
                    json.WriteStartObject();
                    json.WriteString("path", change.Path);
                    json.WriteString("status", change.Status.ToString());
                    json.WriteNumber("bytes", change.Bytes);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                await json.FlushAsync(cancellationToken);
                await context.Stdout.WriteAsync("\n"u8.ToArray(), cancellationToken);
                return ExitCodes.Success;
            }

            var stat = parse.GetValue(_stat);
            foreach (var change in changes)
            {
                // The sandbox chose the path: escaped (a byte that is not UTF-8 as \xNN, a tab as \t) so it cannot
                // break the columns or drive the terminal.
                var path = UntrustedText.Escape(change.Path);
                await context.Out.WriteLineAsync(stat
                    ? string.Create(CultureInfo.InvariantCulture, $"{change.Status}\t{path}\t{change.Bytes}")
                    : $"{change.Status}\t{path}");
            }

            if (stat)
            {
                var bytes = changes.Sum(c => c.Bytes);
                await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{changes.Count} path{(changes.Count == 1 ? "" : "s")} changed: {changes.Count(c => c.Status == 'A')} added, {changes.Count(c => c.Status == 'M')} modified, {changes.Count(c => c.Status == 'T')} mode changed, {changes.Count(c => c.Status == 'D')} deleted, {bytes} bytes"));
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
