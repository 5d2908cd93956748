using System.CommandLine;
using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom sandbox ls [--all] [--limit N]</c>: running sandboxes, or all recorded ones with <c>--all</c>; the
/// newest N (the daemon bounds the answer), shown oldest first.
/// </summary>
internal sealed class SandboxLsCommand : Command
{
    private const int MaxLimit = 1000;

    private readonly FlagOption _all = new("--all", "Include stopped and failed sandboxes", "-a");
    private readonly Option<int?> _limit = new("--limit", "-n") { Description = $"Only the newest n (default and at most {MaxLimit})", HelpName = "n" };
    private readonly JsonOption _json = new();

    public SandboxLsCommand(CliContext context, DaemonAccess daemon)
        : base("ls", "List sandboxes")
    {
        Aliases.Add("list");
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
            var response = await connection.Sandboxes.ListSandboxesAsync(
                new ListSandboxesRequest { All = parse.GetValue(_all), Limit = parse.GetValue(_limit) ?? 0 }, cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                SandboxViews.WriteTable(context.Out, OutputStyle.For(context), response.Sandboxes.OrderBy(s => s.CreatedAt));
                if (response.Truncated)
                {
                    // On stderr, so the table stays parseable.
                    context.Complain(string.Create(CultureInfo.InvariantCulture,
                        $"showing the newest {response.Sandboxes.Count}; there are more (--limit up to {MaxLimit})"));
                }
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
