using System.Net;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>What a hostile guest can send the gateway, and that each is refused before any upstream sees it.</summary>
public sealed class HostileRequestTests : IAsyncLifetime
{
    private const string Host = "files.example.test";
    private readonly FileServer _files = new();

    public Task InitializeAsync()
    {
        _files.Add("/a/b", [1, 2, 3]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _files.DisposeAsync();

    public static TheoryData<string, string?> PathAttacks() => new()
    {
        { $"/fetch/{Host}/a/../b", "invalid_request" },
        { $"/fetch/{Host}/a/./b", "invalid_request" },
        { $"/fetch/{Host}/a/%2e%2e/b", "invalid_request" },
        { $"/fetch/{Host}/a/%2E%2e/b", "invalid_request" },
        { $"/fetch/{Host}/a/.%2E/b", "invalid_request" },
        { $"/fetch/{Host}/a/%2e/b", "invalid_request" },
        { $"/fetch/{Host}//a/b", "invalid_request" },
        { $"/fetch//{Host}/a/b", "invalid_request" },
        { $"/fetch/{Host}/a/b?x=%00", "invalid_request" },
        { $"/fetch/{Host}/a%zzb", "invalid_request" },
        { $"/fetch/{Host}/a%2", "invalid_request" },
        { $"/fetch/{Host}/a%0ab", "invalid_request" },
        { $"/fetch/{Host}/a%0d%0aX-Evil:%201", "invalid_request" },
        { $"/fetch/{Host}/a%7fb", "invalid_request" },
        { $"/fetch/{Host}/a\\b", "invalid_request" },
        { $"/fetch/{Host}/a%5cb", "invalid_request" },
        { $"/fetch/{Host}%2fevil.test/a/b", "invalid_request" },
        { $"/fetch/{Host}%2Fevil.test/a/b", "invalid_request" },
        { $"/fetch/{Host}:8443/a/b", "invalid_request" },
        { $"/fetch/user@{Host}/a/b", "invalid_request" },
        { $"/fetch/user%40{Host}/a/b", "invalid_request" },
        { "/fetch/127.0.0.1/a/b", "invalid_request" },
        { "/fetch/%5B::1%5D/a/b", "invalid_request" },
        { $"/fetch/{Host}/a%ffb", "invalid_request" },
        { "/fetch/sha256:abc/files.example.test/a/b", "invalid_request" },
        { $"/fetch/{Host}/" + new string('a', 4100), "invalid_request" },
        { "*", "invalid_request" },

        // Refused by Kestrel before the gateway sees them (a raw control character, a target past the line limit):
        // still 4xx, with no reason header of ours.
        { $"/fetch/{Host}/a\u0001b", null },
        { $"/fetch/{Host}/a%00b", null },
        { $"http://{Host}/a/b", null },
        { $"/fetch/{Host}/" + new string('a', 9000), null },
    };

    [Theory]
    [MemberData(nameof(PathAttacks))]
    public async Task Path_attacks_are_refused_before_any_upstream_request(string target, string? reason)
    {
        await using var gateway = await StartAsync();
        var method = target == "*" ? "OPTIONS" : "GET";
        var (status, headers) = await gateway.RawAsync(target, method);
        if (reason is null)
        {
            Assert.InRange(status, 400, 431);
        }
        else
        {
            Assert.Equal(400, status);
            Assert.Equal(reason, headers.GetValueOrDefault("X-Cleanroom-Reason-Code"));
            Assert.Contains(gateway.Audit.Refusals, r => r.Reason == reason && r.SandboxId == GatewayHarness.SandboxId);
        }

        Assert.Empty(_files.Requests);
    }

    [Fact]
    public async Task The_control_target_is_served_so_the_table_can_fail()
    {
        await using var gateway = await StartAsync();
        var (status, headers) = await gateway.RawAsync($"/fetch/{Host}/a/b");
        Assert.Equal(200, status);
        Assert.Equal("miss", headers["X-Cleanroom-Cache"]);
        Assert.Single(_files.Requests);
    }

    [Fact]
    public async Task An_address_that_belongs_to_no_sandbox_is_refused()
    {
        await using var gateway = await StartAsync(knownClient: false);
        using var response = await gateway.Http.GetAsync($"/fetch/{Host}/a/b");
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("unknown_client", response.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        var refusal = Assert.Single(gateway.Audit.Refusals);
        Assert.Equal("", refusal.SandboxId);
        Assert.Equal("unknown_client", refusal.Reason);
        Assert.Equal(1, gateway.Counters("none").Refused);
        Assert.Empty(_files.Requests);

        using var health = await gateway.Http.GetAsync("/healthz");
        Assert.Equal(200, (int)health.StatusCode);
    }

    [Fact]
    public async Task A_flood_from_one_sandbox_hits_the_rate_limit()
    {
        await using var gateway = await StartAsync(configure: o => o with { RequestsPerSecondPerSandbox = 1, RequestBurstPerSandbox = 5 });
        var statuses = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Http.GetAsync("/nothing");
            statuses.Add((int)response.StatusCode);
            if ((int)response.StatusCode == 429)
            {
                Assert.Equal("rate_limited", response.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }

        Assert.All(statuses.Take(5), s => Assert.Equal(404, s));
        Assert.True(statuses.Count(s => s == 429) >= 13, string.Join(",", statuses));
        Assert.Contains(gateway.Audit.Refusals, r => r.Reason == "rate_limited");
    }

    [Fact]
    public async Task Too_many_requests_in_flight_from_one_sandbox_are_refused()
    {
        await using var gateway = await StartAsync(configure: o => o with { MaxConcurrentRequestsPerSandbox = 2 });
        _files.Add("/c", [4]);
        var held = _files.Hold(2);
        var first = gateway.Http.GetAsync($"/fetch/{Host}/a/b");
        var second = gateway.Http.GetAsync($"/fetch/{Host}/c");
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        using var third = await gateway.Http.GetAsync($"/fetch/{Host}/a/b");
        Assert.Equal(429, (int)third.StatusCode);
        Assert.Equal("rate_limited", third.Headers.GetValues("X-Cleanroom-Reason-Code").Single());

        _files.Release();
        using (var a = await first)
        using (var b = await second)
        {
            Assert.Equal(200, (int)a.StatusCode);
            Assert.Equal(200, (int)b.StatusCode);
        }

        // The slots came back.
        using var fourth = await gateway.Http.GetAsync($"/fetch/{Host}/a/b");
        Assert.Equal(200, (int)fourth.StatusCode);
    }

    [Fact]
    public async Task Oversized_headers_are_refused()
    {
        await using var gateway = await StartAsync(configure: o => o with { MaxRequestHeaderBytes = 8 << 10 });
        var (status, _) = await gateway.RawAsync($"/fetch/{Host}/a/b", extraHeaders: $"X-Big: {new string('b', 16 << 10)}\r\n");
        Assert.Equal(431, status);
        Assert.Empty(_files.Requests);
    }

    [Fact]
    public async Task Oversized_bodies_are_refused_declared_or_streamed()
    {
        await using var gateway = await StartAsync(configure: o => o with { MaxRequestBodyBytes = 64 << 10 });
        const string Url = "/git/git.example.test/repo.git/git-upload-pack";
        var big = new byte[100 << 10];
        var declared = await gateway.RawAsync(Url, "POST", $"Content-Length: {big.Length}\r\n", big);
        Assert.Equal(413, declared.Status);
        Assert.Equal("request_too_large", declared.Headers["X-Cleanroom-Reason-Code"]);

        var chunk = System.Text.Encoding.ASCII.GetBytes($"{big.Length:x}\r\n").Concat(big).Concat("\r\n0\r\n\r\n"u8.ToArray()).ToArray();
        var streamed = await gateway.RawAsync(Url, "POST", "Transfer-Encoding: chunked\r\n", chunk);
        Assert.Equal(413, streamed.Status);
        Assert.Equal("request_too_large", streamed.Headers["X-Cleanroom-Reason-Code"]);

        // A small gzip body that inflates past the bound is refused the same way.
        using var bomb = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(bomb, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            await gzip.WriteAsync(new byte[1 << 20]);
        }

        Assert.True(bomb.Length < 64 << 10);
        var inflated = await gateway.RawAsync(Url, "POST", $"Content-Encoding: gzip\r\nContent-Length: {bomb.Length}\r\n", bomb.ToArray());
        Assert.Equal(413, inflated.Status);
        Assert.Equal("request_too_large", inflated.Headers["X-Cleanroom-Reason-Code"]);
        Assert.Empty(_files.Requests);
    }

    [Fact]
    public async Task Refusal_bodies_escape_what_the_guest_sent()
    {
        await using var gateway = await StartAsync();
        using var response = await gateway.Http.GetAsync("/fetch/evil%1b%5b31m.test/a");
        Assert.Equal(400, (int)response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain('\u001b', text);
        Assert.Contains("invalid_request", text, StringComparison.Ordinal);
    }

    private Task<GatewayHarness> StartAsync(Func<Cleanroom.Gateway.Server.GatewayOptions, Cleanroom.Gateway.Server.GatewayOptions>? configure = null, bool knownClient = true) =>
        GatewayHarness.StartAsync(
            new Dictionary<string, Uri> { [Host] = _files.BaseUri, ["git.example.test"] = _files.BaseUri },
            "[\"files.example.test:443\", \"git.example.test:443\"]", configure, knownClient);
}
