using Cleanroom.Api.V1;
using Cleanroom.Cli.Commands;
using Cleanroom.Cli.Tests.FakeDaemon;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Cleanroom.Cli.Tests;

/// <summary><c>cleanroom cache stats|ls|prune</c> against the fake daemon.</summary>
[Collection(FakeDaemonGroup.Name)]
public sealed class CacheCommandTests(FakeCleanroomDaemon daemon)
{
    private static CacheEntrySummary Entry(string protocol, string key, long size, TimeSpan age, TimeSpan? expiresIn = null)
    {
        var stored = DateTimeOffset.UtcNow - age;
        var entry = new CacheEntrySummary
        {
            Protocol = protocol,
            Kind = "object",
            Key = key,
            Digest = FakeImageService.DigestOf(key),
            SizeBytes = size,
            StoredAt = Timestamp.FromDateTimeOffset(stored),
            LastAccessAt = Timestamp.FromDateTimeOffset(stored),
            Immutable = expiresIn is null,
            UpstreamStatus = 200,
        };
        if (expiresIn is { } left)
        {
            entry.ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + left);
        }

        return entry;
    }

    private static GetCacheStatsResponse Stats(bool gateway)
    {
        var stats = new GetCacheStatsResponse
        {
            Directory = "/var/lib/cleanroom/cache",
            UsedBytes = 3L << 30,
            MaxBytes = 10L << 30,
            MaxObjectBytes = 512L << 20,
            EvictionPolicy = "s3fifo",
            Blobs = 523,
            Entries = 610,
            PinnedBlobs = 2,
            PinnedBytes = 45L << 20,
            Protocols =
            {
                new CacheProtocolStats { Protocol = "npm", Entries = 600, Bytes = 1L << 30, FreshEntries = 590, ExpiredEntries = 10 },
                new CacheProtocolStats { Protocol = "oci", Entries = 10, Bytes = 2L << 30, FreshEntries = 10 },
            },
            GatewayRunning = gateway,
        };
        if (gateway)
        {
            stats.Routes.Add(new GatewayRouteStats { Route = "npm", Hits = 90, Misses = 10, StaleServed = 1, Bypassed = 4, Refused = 2, UpstreamErrors = 3, BytesServed = 5L << 20 });
        }

        return stats;
    }

    [Fact]
    public async Task Stats_prints_the_totals_then_a_table_per_protocol_and_per_route()
    {
        daemon.Cache.Stats = Stats(gateway: true);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "stats"));
        Assert.Equal(
            """
            directory: /var/lib/cleanroom/cache
            used: 3GiB of 10GiB (30%)
            blobs: 523
            entries: 610
            pinned: 2 blobs, 45MiB
            eviction: s3fifo
            max_object: 512MiB
            gateway: running

            PROTOCOL   ENTRIES   SIZE   FRESH   EXPIRED
            npm        600       1GiB   590     10
            oci        10        2GiB   10      0

            ROUTE   HITS   MISSES   STALE   BYPASSED   REFUSED   ERRORS   SERVED
            npm     90     10       1       4          2         3        5MiB

            """.ReplaceLineEndings("\n"),
            cli.Out);
        Assert.Equal("", cli.Err);
    }

    [Fact]
    public async Task Stats_without_a_gateway_says_so_and_prints_no_route_table()
    {
        daemon.Cache.Stats = Stats(gateway: false);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "stats"));
        Assert.Contains("\ngateway: not running\n", cli.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("ROUTE", cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_json_is_the_response_message()
    {
        daemon.Cache.Stats = Stats(gateway: true);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "stats", "--json"));
        Assert.Equal(daemon.Cache.Stats, JsonParser.Default.Parse<GetCacheStatsResponse>(cli.Out));
    }

    [Fact]
    public async Task Ls_shows_a_row_per_entry_with_relative_times_and_expiry()
    {
        daemon.Cache.Entries =
        [
            Entry("npm", "left-pad/-/left-pad-1.3.0.tgz", 12 * 1024, TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(5)),
            Entry("oci", "registry.example/app:latest", 1234, TimeSpan.FromHours(2), expiresIn: TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(30)),
            Entry("npm", "left-pad", 800, TimeSpan.FromDays(3), expiresIn: -TimeSpan.FromHours(5) - TimeSpan.FromMinutes(1)),
        ];
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "ls"));
        Assert.Equal(
            """
            PROTOCOL   KIND     KEY                             SIZE     STORED          EXPIRES
            npm        object   left-pad/-/left-pad-1.3.0.tgz   12KiB    3 minutes ago   never
            oci        object   registry.example/app:latest     1.2KiB   2 hours ago     in 2 minutes
            npm        object   left-pad                        800B     3 days ago      expired 5 hours ago

            """.ReplaceLineEndings("\n"),
            cli.Out);
        Assert.Equal("", cli.Err);
        var request = daemon.Cache.ListRequests.Last();
        Assert.Equal(("", 0), (request.Protocol, request.Limit));
    }

    [Fact]
    public async Task Ls_escapes_and_cuts_keys_a_guest_or_upstream_chose()
    {
        var hostile = "evil\u001b]0;pwned\u0007/\u202eexe.tgz/" + new string('a', 300);
        daemon.Cache.Entries = [Entry("npm", hostile, 1, TimeSpan.FromMinutes(1))];
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "ls"));
        var row = cli.Out.Split('\n')[1];
        Assert.DoesNotContain('\u001b', cli.Out);
        Assert.DoesNotContain('\u202e', cli.Out);
        Assert.Contains(@"evil\x1b]0;pwned\x07/\u202eexe.tgz/aaa", row, StringComparison.Ordinal);
        Assert.Matches(@"…\(\d+ more characters\)", row);
        Assert.True(row.Length < 200, row);
    }

    [Fact]
    public async Task Ls_passes_protocol_and_limit_joins_the_batches_and_notes_what_was_left_out()
    {
        daemon.Cache.Entries = [.. Enumerable.Range(0, 7).Select(i => Entry(i % 2 == 0 ? "npm" : "pypi", $"pkg-{i}", 100, TimeSpan.FromMinutes(i + 1)))];
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "ls", "--protocol", "npm", "--limit", "3"));
        var lines = cli.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(["pkg-0", "pkg-2", "pkg-4"], lines.Skip(1).Select(l => l.Split("   ", StringSplitOptions.RemoveEmptyEntries)[2].Trim()));
        Assert.Equal("cleanroom: showing the newest 3 of 4 entries (--limit to see more)\n", cli.Err);
        var request = daemon.Cache.ListRequests.Last();
        Assert.Equal(("npm", 3), (request.Protocol, request.Limit));
    }

    [Fact]
    public async Task Ls_json_is_one_list_message_however_many_batches_came()
    {
        daemon.Cache.Entries = [.. Enumerable.Range(0, 5).Select(i => Entry("npm", $"json-{i}", 10, TimeSpan.FromMinutes(i)))];
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "ls", "--json"));
        Assert.Single(cli.Out.TrimEnd('\n').Split('\n'));
        var listing = JsonParser.Default.Parse<ListCacheEntriesResponse>(cli.Out);
        Assert.Equal(daemon.Cache.Entries, listing.Entries);
        Assert.Equal(5, listing.TotalMatching);
    }

    [Theory]
    [InlineData("ls", "--limit", "-1")]
    [InlineData("ls", "--limit", "0")]
    [InlineData("ls", "--limit", "100001")]
    [InlineData("ls", "--limit", "many")]
    [InlineData("prune", "--all", "--expired")]
    [InlineData("prune", "--all", "--older-than", "7d")]
    [InlineData("prune", "--older-than", "7")]
    [InlineData("prune", "--older-than", "0d")]
    [InlineData("prune", "--older-than", "7y")]
    [InlineData("prune", "--older-than", "99999999999w")]
    public async Task Bad_flags_are_usage_errors_before_any_call(params string[] args)
    {
        var (lists, prunes) = (daemon.Cache.ListRequests.Count, daemon.Cache.PruneRequests.Count);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync(["cache", .. args]));
        Assert.Contains("run 'cleanroom cache " + args[0] + " --help' for usage", cli.Err, StringComparison.Ordinal);
        Assert.Equal((lists, prunes), (daemon.Cache.ListRequests.Count, daemon.Cache.PruneRequests.Count));
    }

    [Fact]
    public async Task Prune_without_a_selector_says_it_takes_expired_entries_and_reports_what_went()
    {
        daemon.Cache.PruneResponse = new PruneCacheResponse
        {
            Removed = { Entry("npm", "left-pad", 800, TimeSpan.FromDays(1), -TimeSpan.FromHours(1)), Entry("oci", "app:latest", 1500, TimeSpan.FromDays(2), -TimeSpan.FromHours(2)) },
            RemovedEntries = 2,
            RemovedBlobs = 1,
            FreedBytes = 1500,
            DefaultedToExpired = true,
        };
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "prune"));
        Assert.Equal(
            "removed npm object left-pad (800B)\nremoved oci object app:latest (1.5KiB)\npruned 2 entries and 1 blob, freed 1.5KiB\n",
            cli.Out);
        Assert.Equal("cleanroom: no --all, --older-than or --expired given: pruning expired entries, and mirrors past the repository store's budget, only\n", cli.Err);
        var request = daemon.Cache.PruneRequests.Last();
        Assert.Equal(new PruneCacheRequest(), request);
    }

    [Fact]
    public async Task Prune_dry_run_by_age_and_protocol_says_would_and_lists_how_many_more_and_the_pinned_kept()
    {
        daemon.Cache.PruneResponse = new PruneCacheResponse
        {
            Removed = { Entry("npm", "a\u001b[31m", 10, TimeSpan.FromDays(9)) },
            RemovedEntries = 1001,
            RemovedBlobs = 990,
            FreedBytes = 3L << 30,
            KeptPinnedBlobs = 1,
        };
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "prune", "--older-than", "1w", "--protocol", "npm", "--dry-run"));
        Assert.Equal(
            "would remove npm object a\\x1b[31m (10B)\n… and 1000 more entries\nwould prune 1001 entries and 990 blobs, freeing 3GiB\nkept 1 pinned blob (in use; pruned once released)\n",
            cli.Out);
        Assert.Equal("", cli.Err);
        var request = daemon.Cache.PruneRequests.Last();
        Assert.Equal(new PruneCacheRequest { OlderThan = Duration.FromTimeSpan(TimeSpan.FromDays(7)), Protocol = "npm", DryRun = true }, request);
    }

    [Fact]
    public async Task Prune_all_and_expired_pass_through_and_nothing_to_prune_says_so()
    {
        daemon.Cache.PruneResponse = new PruneCacheResponse();
        using var all = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await all.RunAsync("cache", "prune", "--all"));
        Assert.Equal("nothing to prune\n", all.Out);
        Assert.Equal(new PruneCacheRequest { All = true }, daemon.Cache.PruneRequests.Last());

        daemon.Cache.PruneResponse = new PruneCacheResponse { DefaultedToExpired = true };
        using var none = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await none.RunAsync("cache", "prune"));
        Assert.Equal("no expired entries\n", none.Out);

        daemon.Cache.PruneResponse = new PruneCacheResponse();
        using var expired = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await expired.RunAsync("cache", "prune", "--expired", "--older-than", "36h"));
        Assert.Equal(new PruneCacheRequest { Expired = true, OlderThan = Duration.FromTimeSpan(TimeSpan.FromHours(36)) }, daemon.Cache.PruneRequests.Last());
        Assert.Equal("", expired.Err);
    }

    private static RepositoryMirrorSummary Mirror(string url, long size, TimeSpan unused, TimeSpan? fetched = null)
    {
        var mirror = new RepositoryMirrorSummary
        {
            Url = url,
            SizeBytes = size,
            LastUseAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow - unused),
        };
        if (fetched is { } age)
        {
            mirror.LastFetchAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow - age);
        }

        return mirror;
    }

    [Fact]
    public async Task Stats_show_the_repository_mirrors_and_their_own_budget_after_the_caches_totals()
    {
        var stats = Stats(gateway: false);
        stats.MirrorDirectory = "/var/lib/cleanroom/repositories";
        stats.Mirrors = 2;
        stats.MirrorBytes = 3L << 29;
        stats.MirrorMaxBytes = 50L << 30;
        stats.MirrorMaxAge = Duration.FromTimeSpan(TimeSpan.FromDays(30));
        daemon.Cache.Stats = stats;
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "stats"));
        Assert.Contains(
            "gateway: not running\nmirror_directory: /var/lib/cleanroom/repositories\nmirrors: 2 repositories, 1.5GiB\nmirror_budget: 50GiB, unused for 30 days\n",
            cli.Out,
            StringComparison.Ordinal);

        daemon.Cache.Stats = Stats(gateway: false);
        using var without = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await without.RunAsync("cache", "stats"));
        Assert.DoesNotContain("mirror", without.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ls_lists_the_mirrors_in_a_table_of_their_own_with_urls_escaped()
    {
        daemon.Cache.Entries = [Entry("git", "public|git.example.test/repo|version=2", 2048, TimeSpan.FromMinutes(3))];
        daemon.Cache.Mirrors =
        [
            Mirror("https://git.example.test/repo", 5L << 20, TimeSpan.FromMinutes(10), fetched: TimeSpan.FromHours(2)),
            Mirror("https://git.example.test/\u001b[2Jevil", 1024, TimeSpan.FromDays(3)),
            Mirror("https://git.example.test/third", 1, TimeSpan.FromDays(4)),
        ];
        try
        {
            using var cli = new CliHarness(daemon.Endpoint);
            Assert.Equal(0, await cli.RunAsync("cache", "ls", "--limit", "2"));
            var tables = cli.Out.Split("\n\n");
            Assert.Equal(2, tables.Length);
            Assert.StartsWith("PROTOCOL ", tables[0], StringComparison.Ordinal);
            Assert.Equal(
                """
                MIRROR                                 SIZE   LAST USED        LAST FETCHED
                https://git.example.test/repo          5MiB   10 minutes ago   2 hours ago
                https://git.example.test/\x1b[2Jevil   1KiB   3 days ago       unknown

                """.ReplaceLineEndings("\n"),
                tables[1]);
            Assert.DoesNotContain('\u001b', cli.Out);
            Assert.Equal("cleanroom: showing the 2 most recently used of 3 mirrors (--limit to see more)\n", cli.Err);

            using var npm = new CliHarness(daemon.Endpoint);
            Assert.Equal(0, await npm.RunAsync("cache", "ls", "--protocol", "npm"));
            Assert.DoesNotContain("MIRROR", npm.Out, StringComparison.Ordinal);

            using var json = new CliHarness(daemon.Endpoint);
            Assert.Equal(0, await json.RunAsync("cache", "ls", "--json"));
            var listing = JsonParser.Default.Parse<ListCacheEntriesResponse>(json.Out);
            Assert.Equal(daemon.Cache.Mirrors, listing.Mirrors);
            Assert.Equal(3, listing.TotalMirrors);
            Assert.Contains($"\"sizeBytes\": \"{5L << 20}\"", json.Out, StringComparison.Ordinal);
        }
        finally
        {
            daemon.Cache.Mirrors = [];
        }
    }

    [Fact]
    public async Task Prune_lists_the_mirrors_it_removed_and_counts_their_bytes_in_what_was_freed()
    {
        daemon.Cache.PruneResponse = new PruneCacheResponse
        {
            Removed = { Entry("git", "public|git.example.test/repo|", 1024, TimeSpan.FromDays(9)) },
            RemovedEntries = 1,
            RemovedBlobs = 1,
            FreedBytes = 1024,
            RemovedMirrors = { Mirror("https://git.example.test/\u001b]0;x\u0007repo", 2047L << 10, TimeSpan.FromDays(9)) },
            FreedMirrorBytes = 2047L << 10,
        };
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "prune", "--older-than", "1w", "--dry-run"));
        Assert.Equal(
            "would remove git object public|git.example.test/repo| (1KiB)\n"
            + "would remove mirror https://git.example.test/\\x1b]0;x\\x07repo (2MiB)\n"
            + "would prune 1 entry and 1 blob and 1 mirror, freeing 2MiB\n",
            cli.Out);

        daemon.Cache.PruneResponse = new PruneCacheResponse { RemovedMirrors = { Mirror("https://git.example.test/a", 10, TimeSpan.Zero) }, FreedMirrorBytes = 10 };
        using var only = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await only.RunAsync("cache", "prune", "--all"));
        Assert.Equal("removed mirror https://git.example.test/a (10B)\npruned 0 entries and 0 blobs and 1 mirror, freed 10B\n", only.Out);
    }

    [Fact]
    public async Task Prune_json_is_the_response_message()
    {
        daemon.Cache.PruneResponse = new PruneCacheResponse { Removed = { Entry("npm", "x", 1, TimeSpan.Zero) }, RemovedEntries = 1, RemovedBlobs = 1, FreedBytes = 1, DefaultedToExpired = true };
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("cache", "prune", "--json"));
        Assert.Equal(daemon.Cache.PruneResponse, JsonParser.Default.Parse<PruneCacheResponse>(cli.Out));
        Assert.Equal("", cli.Err); // the note is for people; JSON readers have defaulted_to_expired
    }

    [Theory]
    [InlineData("90m", 90 * 60)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("7d", 7 * 86400)]
    [InlineData("2w", 14 * 86400)]
    [InlineData("36500d", 36500L * 86400)]
    public void Ages_parse_in_minutes_hours_days_and_weeks(string text, long seconds)
    {
        Assert.True(Age.TryParse(text, out var age));
        Assert.Equal(TimeSpan.FromSeconds(seconds), age);
    }

    [Theory]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("7")]
    [InlineData("-7d")]
    [InlineData("+7d")]
    [InlineData("7 d")]
    [InlineData("7D")]
    [InlineData("1.5h")]
    [InlineData("36501d")]
    [InlineData("5300w")]
    public void Other_ages_are_refused(string text) => Assert.False(Age.TryParse(text, out _));
}
