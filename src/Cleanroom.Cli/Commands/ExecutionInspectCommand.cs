using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom execution inspect ID --in SANDBOX</c>: one execution as <c>key: value</c> lines.</summary>
internal sealed class ExecutionInspectCommand : Command
{
    private readonly Argument<string> _id = new("id") { Description = "Execution id" };
    private readonly Option<string> _in = new("--in", "--sandbox-id") { Description = "Sandbox the execution ran in", HelpName = "id", Required = true };
    private readonly JsonOption _json = new();

    public ExecutionInspectCommand(CliContext context, DaemonAccess daemon)
        : base("inspect", "Show one execution")
    {
        Aliases.Add("show");
        Arguments.Add(_id);
        Options.Add(_in);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Executions.GetExecutionAsync(
                new GetExecutionRequest { SandboxId = parse.GetValue(_in)!, ExecutionId = parse.GetValue(_id)! },
                cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response.Execution);
            }
            else
            {
                ExecutionViews.WriteInspect(context.Out, response.Execution);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
