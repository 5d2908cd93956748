using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// The fake daemon's CacheService: answers from <see cref="FakeCacheState"/>. Entries stream two per message, so the
/// client's joining of batches is exercised with a handful of entries.
/// </summary>
internal sealed class FakeCacheService(FakeCacheState state) : CacheService.CacheServiceBase
{
    public const int BatchSize = 2;

    public override Task<GetCacheStatsResponse> GetCacheStats(GetCacheStatsRequest request, ServerCallContext context) =>
        Task.FromResult(state.Stats.Clone());

    public override async Task ListCacheEntries(ListCacheEntriesRequest request, IServerStreamWriter<ListCacheEntriesResponse> responseStream, ServerCallContext context)
    {
        state.ListRequests.Enqueue(request.Clone());
        var matching = state.Entries.Where(e => request.Protocol.Length == 0 || e.Protocol == request.Protocol).ToList();
        var listed = matching.Take(request.Limit == 0 ? 1000 : request.Limit).ToList();
        var mirrors = request.Protocol is "" or "git" ? state.Mirrors : [];
        var first = new ListCacheEntriesResponse { TotalMatching = matching.Count, TotalMirrors = mirrors.Count };
        first.Entries.AddRange(listed.Take(BatchSize).Select(e => e.Clone()));
        await responseStream.WriteAsync(first);
        foreach (var batch in listed.Skip(BatchSize).Chunk(BatchSize))
        {
            var message = new ListCacheEntriesResponse();
            message.Entries.AddRange(batch.Select(e => e.Clone()));
            await responseStream.WriteAsync(message);
        }

        foreach (var batch in mirrors.Take(request.Limit == 0 ? 1000 : request.Limit).Chunk(BatchSize))
        {
            var message = new ListCacheEntriesResponse();
            message.Mirrors.AddRange(batch.Select(m => m.Clone()));
            await responseStream.WriteAsync(message);
        }
    }

    public override Task<PruneCacheResponse> PruneCache(PruneCacheRequest request, ServerCallContext context)
    {
        state.PruneRequests.Enqueue(request.Clone());
        var response = state.PruneResponse.Clone();
        response.DryRun = request.DryRun;
        return Task.FromResult(response);
    }
}
