using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Google.Protobuf.WellKnownTypes;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom cache prune [--all] [--older-than AGE] [--expired] [--protocol P] [--dry-run]</c>: removes the selected
/// entries and every blob no remaining entry points at; with no selector, expired entries only. Without a protocol or
/// with <c>git</c>, repository mirrors too: all of them, those unused for AGE, or those past the store's own budget.
/// </summary>
internal sealed class CachePruneCommand : Command
{
    private readonly FlagOption _all = new("--all", "Remove every entry (of --protocol, when given) and, unless another protocol is given, every repository mirror");
    private readonly Option<TimeSpan?> _olderThan = new("--older-than")
    {
        Description = "Remove entries whose content, and repository mirrors, were not used for this long: 90m, 12h, 7d or 2w",
        HelpName = "age",
        CustomParser = result => Age.Parse(result),
    };

    private readonly FlagOption _expired = new("--expired", "Remove entries past their TTL and mirrors past the repository store's budget (the default when no other selector is given)");
    private readonly Option<string?> _protocol = new("--protocol") { Description = "Only this protocol's entries (npm, oci, git...); mirrors count as git", HelpName = "protocol" };
    private readonly FlagOption _dryRun = new("--dry-run", "Only list what would be removed");
    private readonly JsonOption _json = new();

    public CachePruneCommand(CliContext context, DaemonAccess daemon)
        : base("prune", "Remove cache entries and the content nothing else uses (expired entries unless told otherwise)")
    {
        Options.Add(_all);
        Options.Add(_olderThan);
        Options.Add(_expired);
        Options.Add(_protocol);
        Options.Add(_dryRun);
        Options.Add(_json);
        Validators.Add(result =>
        {
            if (result.GetValue(_all) && (result.GetValue(_olderThan) is not null || result.GetValue(_expired)))
            {
                result.AddError("--all removes every entry: it cannot be combined with --older-than or --expired");
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var request = new PruneCacheRequest
            {
                All = parse.GetValue(_all),
                Expired = parse.GetValue(_expired),
                Protocol = parse.GetValue(_protocol) ?? "",
                DryRun = parse.GetValue(_dryRun),
            };
            if (parse.GetValue(_olderThan) is { } age)
            {
                request.OlderThan = Duration.FromTimeSpan(age);
            }

            var response = await connection.Cache.PruneCacheAsync(request, cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                if (response.DefaultedToExpired)
                {
                    context.Complain("no --all, --older-than or --expired given: pruning expired entries, and mirrors past the repository store's budget, only");
                }

                CacheViews.WritePruneResult(context.Out, response);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
