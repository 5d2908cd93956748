using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom sandbox ls</c>: running sandboxes, or all recorded ones with <c>--all</c>.</summary>
internal sealed class SandboxLsCommand : Command
{
    private readonly FlagOption _all = new("--all", "Include stopped and failed sandboxes", "-a");
    private readonly JsonOption _json = new();

    public SandboxLsCommand(CliContext context, DaemonAccess daemon)
        : base("ls", "List sandboxes")
    {
        Aliases.Add("list");
        Options.Add(_all);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Sandboxes.ListSandboxesAsync(
                new ListSandboxesRequest { All = parse.GetValue(_all) }, cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                SandboxViews.WriteTable(context.Out, OutputStyle.For(context), response.Sandboxes.OrderBy(s => s.CreatedAt));
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
