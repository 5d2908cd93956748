using System.CommandLine;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom execution inspect ID|--last [--in SANDBOX]</c>: one execution as <c>key: value</c> lines. Execution ids
/// are unique across sandboxes, so <c>--in</c> is optional: with an id it is a check, with <c>--last</c> a scope.
/// </summary>
internal sealed class ExecutionInspectCommand : Command
{
    private readonly Argument<string?> _id = new("id") { Description = "Execution id", Arity = ArgumentArity.ZeroOrOne };
    private readonly FlagOption _last = new("--last", "The most recently created execution", "-l");
    private readonly Option<string?> _in = new("--in", "--sandbox-id") { Description = "The sandbox the execution ran in (with --last: the newest of its executions)", HelpName = "id" };
    private readonly JsonOption _json = new();

    public ExecutionInspectCommand(CliContext context, DaemonAccess daemon)
        : base("inspect", "Show one execution")
    {
        Aliases.Add("show");
        Arguments.Add(_id);
        Options.Add(_last);
        Options.Add(_in);
        Options.Add(_json);
        Validators.Add(result =>
        {
            var hasId = result.GetValue(_id) is not null;
            if (hasId == result.GetValue(_last))
            {
                result.AddError(hasId ? "give an execution id or --last, not both" : "give an execution id or --last");
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, connection => ExecutionTarget.ShowAsync(
            context, connection, parse.GetValue(_id), parse.GetValue(_in), parse.GetValue(_json),
            execution => ExecutionViews.WriteInspect(context.Out, execution),
            cancellationToken), cancellationToken));
    }
}
