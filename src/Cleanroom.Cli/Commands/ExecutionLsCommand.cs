using System.CommandLine;
using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom execution ls [--in ID] [--all] [--limit N]</c>: running executions, newest first, of one sandbox or
/// (without <c>--in</c>) of every sandbox; finished ones too with <c>--all</c>. The daemon bounds the answer.
/// </summary>
internal sealed class ExecutionLsCommand : Command
{
    private const int MaxLimit = 1000;

    private readonly Option<string?> _in = new("--in", "--sandbox-id") { Description = "Only this sandbox's executions (default: every sandbox's)", HelpName = "id" };
    private readonly FlagOption _all = new("--all", "Include finished executions", "-a");
    private readonly Option<int?> _limit = new("--limit", "-n") { Description = $"At most this many, newest first (default 100, at most {MaxLimit})", HelpName = "n" };
    private readonly JsonOption _json = new();

    public ExecutionLsCommand(CliContext context, DaemonAccess daemon)
        : base("ls", "List executions, newest first")
    {
        Aliases.Add("list");
        Options.Add(_in);
        Options.Add(_all);
        Options.Add(_limit);
        Options.Add(_json);
        _limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } n && n is < 1 or > MaxLimit)
            {
                result.AddError($"--limit takes 1 to {MaxLimit} (got {n})");
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var sandboxId = parse.GetValue(_in);
            var response = await connection.Executions.ListExecutionsAsync(
                new ListExecutionsRequest { SandboxId = sandboxId ?? "", All = parse.GetValue(_all), Limit = parse.GetValue(_limit) ?? 0 },
                cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
                return ExitCodes.Success;
            }

            ExecutionViews.WriteTable(context.Out, OutputStyle.For(context), response.Executions, withSandbox: sandboxId is null);
            if (response.Truncated)
            {
                // On stderr, so the table stays parseable.
                context.Complain(string.Create(CultureInfo.InvariantCulture,
                    $"showing the newest {response.Executions.Count}; there are more (--limit up to {MaxLimit})"));
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
