using System.Text.Json.Nodes;
using Cleanroom.Api.V1;
using Cleanroom.Daemon.Hosting;
using Cleanroom.Gateway.Cache;
using Cleanroom.TestSupport;
using Cleanroom.Workspaces.Repositories;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The repository store's mirrors on the cache API's one surface: real mirrors (fetched by the real
/// <see cref="RepositoryStore"/> from real bare repositories, under https URLs as <c>exec --repo-url</c> names them),
/// the real cache, the real service over a socket; and the gateway's lookup of a mirror by host and path.
/// </summary>
public sealed class CacheApiMirrorTests : IAsyncLifetime
{
    private const string Host = "git.example.test";

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cr-cache-mirrors-");
    private ContentCache _cache = null!;
    private RepositoryStore _store = null!;

    private string Upstreams => Path.Combine(_root.FullName, "upstream");

    public async Task InitializeAsync()
    {
        _cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(_root.FullName, "cache"), MaxTotalBytes = 64L << 20 });
        Directory.CreateDirectory(Upstreams);
        GitHttpBackendServer.CreateRepository(Upstreams, "one.git", commits: 1);
        GitHttpBackendServer.CreateRepository(Upstreams, "two.git", commits: 2);
        _store = new RepositoryStore(new RepositoryStoreOptions
        {
            StoreDirectory = Path.Combine(_root.FullName, "repositories"),
            MaxTotalBytes = 1L << 30,
            MaxAge = TimeSpan.FromDays(30),
            GitEnvironment = new Dictionary<string, string>
            {
                ["GIT_CONFIG_NOSYSTEM"] = "1",
                ["GIT_CONFIG_GLOBAL"] = "/dev/null",
                ["GIT_CONFIG_COUNT"] = "1",
                ["GIT_CONFIG_KEY_0"] = $"url.{Upstreams}/.insteadOf",
                ["GIT_CONFIG_VALUE_0"] = $"https://{Host}/",
            },
        });
        await _store.EnsureAsync($"https://{Host}/one.git", null, CancellationToken.None);
        await _store.EnsureAsync($"https://{Host}/two", null, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        _cache.Dispose();
        _root.Delete(recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Stats_count_the_mirrors_and_their_bytes_beside_the_cache_with_the_stores_own_budget()
    {
        await _cache.PutAsync(new CacheKey("npm", "object", "a"), new MemoryStream(new byte[1000]), new CacheEntryOptions(), CancellationToken.None);
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName, repositories: _store);

        var stats = await host.Connection.Cache.GetCacheStatsAsync(new GetCacheStatsRequest());

        Assert.Equal(_store.Options.StoreDirectory, stats.MirrorDirectory);
        Assert.Equal(2, stats.Mirrors);
        Assert.True(stats.MirrorBytes > 0);
        Assert.Equal(_store.ListMirrors().Sum(m => m.SizeBytes), stats.MirrorBytes);
        Assert.Equal((1L << 30, TimeSpan.FromDays(30)), (stats.MirrorMaxBytes, stats.MirrorMaxAge.ToTimeSpan()));
        // The cache's own figures stay the cache's: the mirrors are not in its budget.
        Assert.Equal((1000L, 1L), (stats.UsedBytes, stats.Entries));
    }

    [Fact]
    public async Task Ls_lists_the_mirrors_apart_from_the_entries_most_recently_used_first_for_every_protocol_or_git()
    {
        await _cache.PutAsync(new CacheKey("npm", "object", "a"), new MemoryStream(new byte[10]), new CacheEntryOptions(), CancellationToken.None);
        await AgeAsync("one", TimeSpan.FromDays(2));
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName, repositories: _store);

        var all = await ListAsync(host, new ListCacheEntriesRequest());
        Assert.Equal("a", Assert.Single(all.SelectMany(m => m.Entries)).Key);
        var mirrors = all.SelectMany(m => m.Mirrors).ToList();
        Assert.Equal([$"https://{Host}/two", $"https://{Host}/one"], mirrors.Select(m => m.Url));
        Assert.Equal(2, all[0].TotalMirrors);
        Assert.All(mirrors, m => Assert.True(m.SizeBytes > 0 && m.LastFetchAt is not null));
        Assert.True(mirrors[0].LastUseAt.ToDateTimeOffset() > mirrors[1].LastUseAt.ToDateTimeOffset());

        var npm = await ListAsync(host, new ListCacheEntriesRequest { Protocol = "npm" });
        Assert.Empty(npm.SelectMany(m => m.Mirrors));
        Assert.Equal(0, npm[0].TotalMirrors);

        var git = await ListAsync(host, new ListCacheEntriesRequest { Protocol = "git", Limit = 1 });
        Assert.Empty(git.SelectMany(m => m.Entries));
        Assert.Equal($"https://{Host}/two", Assert.Single(git.SelectMany(m => m.Mirrors)).Url);
        Assert.Equal(2, git[0].TotalMirrors);

        // int64 as strings in protobuf JSON, as for every other size.
        var json = JsonFormatter.Default.Format(all[^1]);
        Assert.Contains($"\"sizeBytes\": \"{mirrors[0].SizeBytes}\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_applies_its_selectors_to_the_mirrors_a_dry_run_removes_nothing()
    {
        await AgeAsync("one", TimeSpan.FromDays(10));
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName, repositories: _store);

        // No selector: mirrors past the store's own budget, and these are within it.
        var expired = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest());
        Assert.Empty(expired.RemovedMirrors);

        // Another protocol leaves mirrors alone, even with all.
        var npm = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { All = true, Protocol = "npm" });
        Assert.Empty(npm.RemovedMirrors);

        var dry = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { All = true, DryRun = true });
        Assert.Equal(2, dry.RemovedMirrors.Count);
        Assert.True(dry.FreedMirrorBytes > 0);
        Assert.Equal(2, _store.ListMirrors().Count);

        var aged = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { OlderThan = Duration.FromTimeSpan(TimeSpan.FromDays(7)), Protocol = "git" });
        Assert.Equal($"https://{Host}/one", Assert.Single(aged.RemovedMirrors).Url);
        Assert.Null(_store.FindMirror($"https://{Host}/one"));
        Assert.NotNull(_store.FindMirror($"https://{Host}/two"));

        var all = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { All = true });
        Assert.Equal($"https://{Host}/two", Assert.Single(all.RemovedMirrors).Url);
        Assert.Empty(_store.ListMirrors());
        var stats = await host.Connection.Cache.GetCacheStatsAsync(new GetCacheStatsRequest());
        Assert.Equal((0L, 0L), (stats.Mirrors, stats.MirrorBytes));
    }

    [Fact]
    public void The_gateways_lookup_finds_a_mirror_by_host_and_path_with_or_without_git_and_nothing_else()
    {
        // A bare repository beside the store, which no guest path may reach.
        GitHttpBackendServer.CreateRepository(_root.FullName, "decoy.git", commits: 1);
        var mirrors = new RepositoryGitMirrors(_store);
        var one = _store.FindMirror($"https://{Host}/one");
        Assert.NotNull(one);

        Assert.Equal(one, mirrors.Find(Host, "/one"));
        Assert.Equal(one, mirrors.Find(Host, "/one.git"));
        Assert.Equal(one, mirrors.Find(Host, "/one.git/"));
        Assert.Null(mirrors.Find(Host, "/ONE"));
        Assert.Null(mirrors.Find("other.example.test", "/one"));

        string[] hostile =
        [
            "", "one", "/", "/..", "/../decoy", "/../../decoy.git", "/%2e%2e/decoy", "/one/../../decoy", "/one/../one",
            "/" + new string('a', 5000), "/one\n", "/one\0", "//one", "/one?x", "/../repositories/one.git",
        ];
        var store = Path.GetFullPath(_store.Options.StoreDirectory);
        foreach (var path in hostile)
        {
            var found = mirrors.Find(Host, path);
            Assert.True(found is null || Path.GetDirectoryName(Path.GetFullPath(found)) == store, $"{path} -> {found}");
        }

        foreach (var host in new[] { "git.example.test/..", "..", "git.example.test/../../decoy", "-x" })
        {
            var found = mirrors.Find(host, "/decoy");
            Assert.True(found is null || Path.GetDirectoryName(Path.GetFullPath(found)) == store, $"{host} -> {found}");
        }
    }

    /// <summary>Moves a mirror's last use back, as if no run had used it for <paramref name="age"/>.</summary>
    private async Task AgeAsync(string name, TimeSpan age)
    {
        var mirror = _store.FindMirror($"https://{Host}/{name}")!;
        var record = Path.ChangeExtension(mirror, ".json");
        var json = JsonNode.Parse(await File.ReadAllTextAsync(record))!;
        json["LastUseUtc"] = DateTime.UtcNow - age;
        await File.WriteAllTextAsync(record, json.ToJsonString());
    }

    private static async Task<List<ListCacheEntriesResponse>> ListAsync(CacheApiHost host, ListCacheEntriesRequest request)
    {
        using var call = host.Connection.Cache.ListCacheEntries(request);
        var messages = new List<ListCacheEntriesResponse>();
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            messages.Add(message);
        }

        return messages;
    }
}
