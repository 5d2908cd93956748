using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom cache stats</c>: the cache's size, budget and contents per protocol, and the gateway's route counters.</summary>
internal sealed class CacheStatsCommand : Command
{
    private readonly JsonOption _json = new();

    public CacheStatsCommand(CliContext context, DaemonAccess daemon)
        : base("stats", "Show how full the cache is, per protocol, and what each gateway route served")
    {
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Cache.GetCacheStatsAsync(new GetCacheStatsRequest(), cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                CacheViews.WriteStats(context.Out, OutputStyle.For(context), response);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
