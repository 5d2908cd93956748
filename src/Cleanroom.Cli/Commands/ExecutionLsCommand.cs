using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom execution ls --in ID</c>: a sandbox's running executions, or all with <c>--all</c>.</summary>
internal sealed class ExecutionLsCommand : Command
{
    private readonly Option<string> _in = new("--in", "--sandbox-id") { Description = "Sandbox id", HelpName = "id", Required = true };
    private readonly FlagOption _all = new("--all", "Include finished executions", "-a");
    private readonly JsonOption _json = new();

    public ExecutionLsCommand(CliContext context, DaemonAccess daemon)
        : base("ls", "List the executions of a sandbox")
    {
        Aliases.Add("list");
        Options.Add(_in);
        Options.Add(_all);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Executions.ListExecutionsAsync(
                new ListExecutionsRequest { SandboxId = parse.GetValue(_in)!, All = parse.GetValue(_all) },
                cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                ExecutionViews.WriteTable(context.Out, OutputStyle.For(context), response.Executions);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
