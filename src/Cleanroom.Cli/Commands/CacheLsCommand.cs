using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Grpc.Core;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom cache ls</c>: the cache's entries, newest first, then (for every protocol or <c>--protocol git</c>) the
/// repository mirrors, most recently used first.
/// </summary>
internal sealed class CacheLsCommand : Command
{
    /// <summary>The daemon's bounds on <c>--limit</c> (its default is 1000).</summary>
    private const int MaxLimit = 100_000;

    private readonly Option<string?> _protocol = new("--protocol") { Description = "Only this protocol's entries (npm, oci, git...)", HelpName = "protocol" };
    private readonly Option<int> _limit = new("--limit", "-n")
    {
        Description = "Show at most this many entries, 1 to 100000 (default 1000)",
        HelpName = "n",
        CustomParser = ParseLimit,
    };
    private readonly JsonOption _json = new();

    public CacheLsCommand(CliContext context, DaemonAccess daemon)
        : base("ls", "List the cache's entries, newest first, then the repository mirrors")
    {
        Aliases.Add("list");
        Options.Add(_protocol);
        Options.Add(_limit);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var request = new ListCacheEntriesRequest { Protocol = parse.GetValue(_protocol) ?? "", Limit = parse.GetValue(_limit) };
            using var call = connection.Cache.ListCacheEntries(request, cancellationToken: cancellationToken);

            // The daemon streams the entries in batches; they are shown (and printed as JSON) as one list.
            var listing = new ListCacheEntriesResponse();
            var first = true;
            await foreach (var batch in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (first)
                {
                    listing.TotalMatching = batch.TotalMatching;
                    listing.TotalMirrors = batch.TotalMirrors;
                    first = false;
                }

                listing.Entries.AddRange(batch.Entries);
                listing.Mirrors.AddRange(batch.Mirrors);
            }

            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, listing);
                return ExitCodes.Success;
            }

            CacheViews.WriteEntries(context.Out, OutputStyle.For(context), listing.Entries, context.Clock.GetUtcNow());
            if (listing.TotalMatching > listing.Entries.Count)
            {
                context.Complain(string.Create(CultureInfo.InvariantCulture,
                    $"showing the newest {listing.Entries.Count} of {listing.TotalMatching} entries (--limit to see more)"));
            }

            if (listing.Mirrors.Count > 0)
            {
                context.Out.WriteLine();
                CacheViews.WriteMirrors(context.Out, OutputStyle.For(context), listing.Mirrors, context.Clock.GetUtcNow());
                if (listing.TotalMirrors > listing.Mirrors.Count)
                {
                    context.Complain(string.Create(CultureInfo.InvariantCulture,
                        $"showing the {listing.Mirrors.Count} most recently used of {listing.TotalMirrors} mirrors (--limit to see more)"));
                }
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }

    private static int ParseLimit(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxLimit)
        {
            return limit;
        }

        result.AddError(string.Create(CultureInfo.InvariantCulture, $"--limit takes a whole number from 1 to {MaxLimit} (got '{text}')"));
        return 0;
    }
}
