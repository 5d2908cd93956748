using System.Text.Json;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// The host gateway from a real guest, through the installed CLI and daemon: an ordinary <c>git clone
/// https://git.example.test/…</c> in the job goes through the gateway (the execution's environment says so), which adds
/// the token that only the host has; the token is nowhere in the guest; the second clone's pack is served from the cache (its refs are asked for again), and
/// so is a third while the upstream is down; a host the policy does not allow is refused with its reason code and
/// recorded. The upstream is the real <c>git http-backend</c> in the test internet, demanding the token.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class GatewayTests : IAsyncLifetime
{
    private const string Image = "debian-gateway-test:bookworm";
    private const int UpstreamPort = 8080;
    private const string GitHost = "git.example.test";

    // A git smart-HTTP upstream: the real `git http-backend` as CGI, behind a check of the bearer token. It appends
    // each request to requests.log in the projects' root, so the test can count what reached the upstream.
    private const string GitUpstream = """
        import http.server, os, subprocess, sys
        root, token = sys.argv[1], sys.argv[2]
        class Handler(http.server.BaseHTTPRequestHandler):
            def serve(self):
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # A pack request names what it wants (v0 "want", v2 "command=fetch"); v2's ls-refs is refs only.
                kind = "pack" if b"command=fetch" in body or body[4:8] == b"want" else "refs"
                with open(os.path.join(root, "requests.log"), "a") as log:
                    log.write(self.command + " " + path + " " + kind + "\n")
                if self.headers.get("Authorization") != "Bearer " + token:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path, QUERY_STRING=query,
                           REQUEST_METHOD=self.command, CONTENT_TYPE=self.headers.get("Content-Type", ""),
                           CONTENT_LENGTH=str(len(body)), GIT_PROTOCOL=self.headers.get("Git-Protocol", ""), REMOTE_ADDR="10.250.0.1")
                output = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
                head, separator, payload = output.partition(b"\r\n\r\n")
                if not separator:
                    head, _, payload = output.partition(b"\n\n")
                status, headers = 200, []
                for line in head.decode().splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            do_GET = do_POST = serve
        http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[3])), Handler).serve_forever()
        """;

    private readonly string _token = "crtok-" + Guid.NewGuid().ToString("N");
    private NetworkedDaemon _daemon = null!;
    private string _work = null!;
    private System.Diagnostics.Process _upstream = null!;

    private string Projects => Path.Combine(_work, "projects");

    private string Policy => Path.Combine(_work, "cleanroom.yaml");

    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("cr-gateway-").FullName;
        Directory.CreateDirectory(Projects);
        MakeRepository(Path.Combine(Projects, "private.git"), "hello from upstream\n");

        // The token exists only in this file, which only the daemon reads.
        var credentials = Path.Combine(_work, "gateway-credentials.json");
        await File.WriteAllTextAsync(credentials, JsonSerializer.Serialize(new { hosts = new Dictionary<string, object> { [GitHost] = new { token = _token } } }));
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        _daemon = await NetworkedDaemon.StartAsync(
            "--gateway", "on",
            "--gateway-credentials", credentials,
            "--gateway-upstream", $"{GitHost}=http://{NetworkedDaemon.WebAddress}:{UpstreamPort}");
        _upstream = _daemon.StartInInternet("python3", "-c", GitUpstream, Projects, _token, UpstreamPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _daemon.WaitForInternetPort(UpstreamPort);

        var imported = await _daemon.CliAsync("image", "import", Image, RepoPaths.DebianImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        await File.WriteAllTextAsync(Policy, DebianNetworkRun.Policy(DebianNetworkRun.Allow($"{GitHost}:443")));
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _daemon.DisposeAsync();
        }
        finally
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task A_job_clones_a_private_repository_through_the_gateway_without_the_token_and_a_repeat_comes_from_the_cache()
    {
        var id = await CreateAsync();

        // The job names the real URL; the environment the daemon gives every execution sends it to the gateway.
        var clone = await ExecAsync(id, "sh", "-c", $"git clone -q https://{GitHost}/private.git /tmp/one && cat /tmp/one/README");
        Assert.True(clone.ExitCode == 0, $"exit {clone.ExitCode}: {clone.Stdout} {clone.Stderr}");
        Assert.Equal("hello from upstream", clone.Stdout.Trim());
        var fetchesAfterFirst = UpstreamRequests("/private.git/git-upload-pack pack");
        Assert.True(fetchesAfterFirst >= 1, "the first clone never reached the upstream");

        // No trace of the token anywhere the guest can read: files (outside the kernel's views), and every process's
        // environment and command line. The token is handed in reversed, so this command line does not hold it.
        var reversed = new string(_token.Reverse().ToArray());
        var search = await ExecAsync(id, "sh", "-c",
            $"t=$(printf %s {reversed} | rev); grep -rlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev \"$t\" /; "
            + "for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do grep -qsF \"$t\" \"$f\" && echo \"$f\"; done; true");
        Assert.True(search.ExitCode == 0, search.Stderr);
        Assert.Equal("", search.Stdout.Trim());

        // A second clone of the same commit: the pack comes from the cache, so the upstream sees no new pack request
        // (only the refs, which can change, are asked for again).
        var again = await ExecAsync(id, "sh", "-c", $"git clone -q https://{GitHost}/private.git /tmp/two && cat /tmp/two/README");
        Assert.True(again.ExitCode == 0, $"exit {again.ExitCode}: {again.Stderr}");
        Assert.Equal(fetchesAfterFirst, UpstreamRequests("/private.git/git-upload-pack pack"));

        // A job with git configuration of its own (safe.directory, as CI checkouts set) still clones through the
        // gateway: its pairs and the gateway's rewrites are both in the environment.
        var own = await _daemon.CliAsync(
            "exec", "--in", id, "--no-stdin", "-e", "GIT_CONFIG_COUNT=1", "-e", "GIT_CONFIG_KEY_0=safe.directory", "-e", "GIT_CONFIG_VALUE_0=*", "--",
            "sh", "-c", $"git config --get safe.directory && git clone -q https://{GitHost}/private.git /tmp/own && cat /tmp/own/README");
        Assert.True(own.ExitCode == 0, $"exit {own.ExitCode}: {own.Stdout} {own.Stderr}");
        Assert.Equal(["*", "hello from upstream"], own.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(fetchesAfterFirst, UpstreamRequests("/private.git/git-upload-pack pack"));

        // The upstream goes down: a warm cache still serves the clone (the refs flagged stale).
        _upstream.Kill(entireProcessTree: true);
        await _upstream.WaitForExitAsync();
        var down = await ExecAsync(id, "sh", "-c", $"git clone -q https://{GitHost}/private.git /tmp/three && cat /tmp/three/README");
        Assert.True(down.ExitCode == 0, $"exit {down.ExitCode}: {down.Stderr}");
        Assert.Equal("hello from upstream", down.Stdout.Trim());

        var stats = await _daemon.CliAsync("cache", "stats", "--json");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        using var document = JsonDocument.Parse(stats.Stdout);
        var git = document.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == "git");
        // Protobuf's JSON writes 64-bit counters as strings.
        Assert.True(long.Parse(git.GetProperty("hits").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= 1, stats.Stdout);
    }

    [Fact]
    public async Task A_host_the_policy_does_not_allow_is_refused_with_its_reason_and_recorded()
    {
        var id = await CreateAsync();

        var refused = await ExecAsync(id, "sh", "-c",
            "curl -sS -m 20 -o /dev/null -D - 'http://gateway.cleanroom.internal:8170/git/other.test/x.git/info/refs?service=git-upload-pack'");
        Assert.True(refused.ExitCode == 0, refused.Stderr);
        Assert.StartsWith("HTTP/1.1 403", refused.Stdout, StringComparison.Ordinal);
        Assert.Contains("x-cleanroom-reason-code: host_not_allowed", refused.Stdout.ToLowerInvariant(), StringComparison.Ordinal);

        // A push is never forwarded, even to an allowed host.
        var push = await ExecAsync(id, "sh", "-c",
            $"curl -sS -m 20 -o /dev/null -w '%{{http_code}}' 'http://gateway.cleanroom.internal:8170/git/{GitHost}/private.git/info/refs?service=git-receive-pack'");
        Assert.Equal("403", push.Stdout.Trim());
        Assert.Equal(0, UpstreamRequests("receive-pack"));

        var events = await _daemon.CliAsync("sandbox", "events", id, "--json");
        Assert.True(events.ExitCode == 0, events.Stderr);
        Assert.Contains(events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement),
            e => e.TryGetProperty("protocol", out var p) && p.GetString() == "gateway"
                && e.TryGetProperty("reasonCode", out var r) && r.GetString() == "host_not_allowed"
                && e.TryGetProperty("destination", out var d) && d.GetString()!.Contains("other.test", StringComparison.Ordinal));
    }

    private int UpstreamRequests(string pathPart)
    {
        var log = Path.Combine(Projects, "requests.log");
        return File.Exists(log) ? File.ReadAllLines(log).Count(line => line.Contains(pathPart, StringComparison.Ordinal)) : 0;
    }

    private static void MakeRepository(string bare, string readme)
    {
        var source = bare + "-source";
        NetworkNamespace.Host("git", "init", "-q", "-b", "main", source);
        File.WriteAllText(Path.Combine(source, "README"), readme);
        NetworkNamespace.Host("git", "-C", source, "add", "README");
        NetworkNamespace.Host("git", "-C", source, "-c", "user.name=test", "-c", "user.email=test@example.test", "commit", "-q", "-m", "first");
        NetworkNamespace.Host("git", "clone", "-q", "--bare", source, bare);
    }

    private async Task<string> CreateAsync()
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", Image, "--policy", Policy);
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        return created.Stdout.Trim();
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string id, params string[] command) =>
        _daemon.CliAsync(["exec", "--in", id, "--no-stdin", "--", .. command]);
}
