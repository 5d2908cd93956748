using System.CommandLine;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom status [--last | --execution-id ID] [--in SANDBOX]</c>: how one run went, for people — its sandbox,
/// command, outcome, times and duration, where its output is, and its error. With neither flag it is <c>--last</c>:
/// "how did my last run go" is what a bare <c>status</c> is typed for, and there is nothing else it could mean.
/// </summary>
internal sealed class StatusCommand : Command
{
    private readonly FlagOption _last = new("--last", "The most recently created execution (the default)", "-l");
    private readonly Option<string?> _executionId = new("--execution-id") { Description = "This execution", HelpName = "id" };
    private readonly Option<string?> _in = new("--in", "--sandbox-id") { Description = "The sandbox the execution ran in (with --last: the newest of its executions)", HelpName = "id" };
    private readonly JsonOption _json = new();

    public StatusCommand(CliContext context, DaemonAccess daemon)
        : base("status", "Summarise one execution: the last one, or --execution-id")
    {
        Options.Add(_last);
        Options.Add(_executionId);
        Options.Add(_in);
        Options.Add(_json);
        Validators.Add(result =>
        {
            if (result.GetValue(_last) && result.GetValue(_executionId) is not null)
            {
                result.AddError("give --last or --execution-id, not both");
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, connection => ExecutionTarget.ShowAsync(
            context, connection, parse.GetValue(_executionId), parse.GetValue(_in), parse.GetValue(_json),
            execution => ExecutionViews.WriteStatus(context.Out, OutputStyle.For(context), execution, context.Clock.GetUtcNow()),
            cancellationToken), cancellationToken));
    }
}
