using System.Diagnostics;
using System.Net;
using System.Text;

namespace Cleanroom.TestSupport;

/// <summary>
/// A real git smart-HTTP upstream on 127.0.0.1: each request runs <c>git http-backend</c> as a CGI program over a
/// directory of bare repositories. It can insist on one Authorization header value (401 otherwise), counts requests by
/// kind, and can be stopped to play an upstream that is down.
/// </summary>
public sealed class GitHttpBackendServer : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;
    private readonly string _projectRoot;
    private readonly string? _requiredAuthorization;
    private readonly Func<Task>? _beforeAnswer;
    private int _infoRefs;
    private int _uploadPacks;
    private int _receivePacks;
    private int _packRequests;
    private int _lsRefsRequests;
    private int _unauthorized;
    private int _stopped;

    private GitHttpBackendServer(string projectRoot, string? requiredAuthorization, Func<Task>? beforeAnswer)
    {
        _projectRoot = projectRoot;
        _requiredAuthorization = requiredAuthorization;
        _beforeAnswer = beforeAnswer;
        _server = LoopbackHttpServer.Start(HandleAsync);
    }

    /// <summary><c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri => _server.BaseUri;

    /// <summary>GET info/refs requests that reached git.</summary>
    public int InfoRefsRequests => Volatile.Read(ref _infoRefs);

    /// <summary>POST git-upload-pack requests that reached git.</summary>
    public int UploadPackRequests => Volatile.Read(ref _uploadPacks);

    /// <summary>Upload-pack requests that negotiate or fetch a pack (v0/v1 <c>want</c>, v2 <c>command=fetch</c>).</summary>
    public int PackRequests => Volatile.Read(ref _packRequests);

    /// <summary>Protocol v2 <c>command=ls-refs</c> requests.</summary>
    public int LsRefsRequests => Volatile.Read(ref _lsRefsRequests);

    /// <summary>Any receive-pack request (there should never be one through the gateway).</summary>
    public int ReceivePackRequests => Volatile.Read(ref _receivePacks);

    /// <summary>Requests answered 401 for a missing or wrong Authorization.</summary>
    public int UnauthorizedRequests => Volatile.Read(ref _unauthorized);

    /// <summary>Everything received, in order (headers included).</summary>
    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    /// <summary>
    /// Serves the bare repositories under <paramref name="projectRoot"/>; when <paramref name="requiredAuthorization"/>
    /// is given, only requests carrying exactly that Authorization value get past 401. <paramref name="beforeAnswer"/>
    /// runs before each request is answered (before any header is sent): a test holds answers there to play a slow
    /// upstream.
    /// </summary>
    public static GitHttpBackendServer Start(string projectRoot, string? requiredAuthorization = null, Func<Task>? beforeAnswer = null) =>
        new(projectRoot, requiredAuthorization, beforeAnswer);

    /// <summary>The Authorization value of a bearer token.</summary>
    public static string Bearer(string token) => "Bearer " + token;

    /// <summary>The Authorization value of a username and password.</summary>
    public static string Basic(string username, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password));

    /// <summary>
    /// Creates a bare repository <paramref name="name"/> under <paramref name="projectRoot"/> with
    /// <paramref name="commits"/> commits on <c>main</c>, each adding a file; returns the head commit.
    /// </summary>
    public static string CreateRepository(string projectRoot, string name, int commits = 3)
    {
        var work = Path.Combine(projectRoot, ".work-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        Git(work, "init", "-q", "-b", "main");
        for (var i = 0; i < commits; i++)
        {
            File.WriteAllText(Path.Combine(work, $"file{i}.txt"), $"content {i} of {name}\n" + new string('x', 1000 * (i + 1)));
            Git(work, "add", ".");
            Git(work, "commit", "-q", "-m", $"commit {i}");
        }

        Git(projectRoot, "clone", "-q", "--bare", work, name);
        var head = Git(work, "rev-parse", "HEAD").Trim();
        Directory.Delete(work, recursive: true);
        return head;
    }

    /// <summary>Runs git with a clean configuration (no user or system config) and returns its stdout; throws on failure.</summary>
    public static string Git(string workingDirectory, params string[] args)
    {
        var (code, stdout, stderr) = RunGit(workingDirectory, null, args);
        return code == 0 ? stdout : throw new InvalidOperationException($"git {string.Join(' ', args)} failed ({code}): {stderr}");
    }

    /// <summary>Runs git with a clean configuration and extra environment; returns exit code and output.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunGit(
        string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        CleanGitEnvironment(start.Environment);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"git {string.Join(' ', args)} did not finish in 2 minutes");
        }

        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Stops listening: later requests are refused at connect, as with an upstream that is down.</summary>
    public async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _server.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => StopAsync();

    private static void CleanGitEnvironment(IDictionary<string, string?> environment)
    {
        environment["GIT_CONFIG_NOSYSTEM"] = "1";
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        environment["GIT_TERMINAL_PROMPT"] = "0";
        environment["GIT_AUTHOR_NAME"] = "Test";
        environment["GIT_AUTHOR_EMAIL"] = "test@example.test";
        environment["GIT_COMMITTER_NAME"] = "Test";
        environment["GIT_COMMITTER_EMAIL"] = "test@example.test";
        environment["GIT_AUTHOR_DATE"] = "2026-01-01T00:00:00Z";
        environment["GIT_COMMITTER_DATE"] = "2026-01-01T00:00:00Z";
        environment.Remove("GIT_DIR");
        environment.Remove("GIT_PROTOCOL");
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        if (_beforeAnswer is not null)
        {
            await _beforeAnswer();
        }

        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        if (path.EndsWith("/git-receive-pack", StringComparison.Ordinal) || request.Url.Query.Contains("git-receive-pack", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _receivePacks);
        }

        if (_requiredAuthorization is not null && request.Headers["Authorization"] != _requiredAuthorization)
        {
            Interlocked.Increment(ref _unauthorized);
            response.StatusCode = 401;
            response.AddHeader("WWW-Authenticate", "Basic realm=\"test\"");
            return;
        }

        if (path.EndsWith("/info/refs", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _infoRefs);
        }
        else if (path.EndsWith("/git-upload-pack", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _uploadPacks);
        }

        var start = new ProcessStartInfo("git", "http-backend")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        CleanGitEnvironment(start.Environment);
        start.Environment["GIT_PROJECT_ROOT"] = _projectRoot;
        start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        start.Environment["PATH_INFO"] = Uri.UnescapeDataString(path);
        start.Environment["QUERY_STRING"] = request.Url.Query.TrimStart('?');
        start.Environment["REQUEST_METHOD"] = request.HttpMethod;
        start.Environment["CONTENT_TYPE"] = request.ContentType ?? "";
        start.Environment["REMOTE_ADDR"] = "127.0.0.1";
        if (request.Headers["Git-Protocol"] is { } protocol)
        {
            start.Environment["GIT_PROTOCOL"] = protocol;
        }

        if (request.Headers["Content-Encoding"] is { } encoding)
        {
            start.Environment["HTTP_CONTENT_ENCODING"] = encoding;
        }

        var body = new MemoryStream();
        if (request.HasEntityBody)
        {
            await request.InputStream.CopyToAsync(body);
        }

        Classify(body.ToArray(), request.Headers["Content-Encoding"]);
        start.Environment["CONTENT_LENGTH"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var feed = Task.Run(async () =>
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(body.ToArray());
            }
            finally
            {
                process.StandardInput.Close();
            }
        });

        var output = process.StandardOutput.BaseStream;
        var headers = await ReadCgiHeadersAsync(output);
        response.StatusCode = 200;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                response.StatusCode = int.Parse(value.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                response.ContentType = value;
            }
            else if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                response.AddHeader(name, value);
            }
        }

        response.SendChunked = true;
        await output.CopyToAsync(response.OutputStream);
        await feed;

        // Bounded: a CGI whose exit is never seen must fail its request, not hang the test run.
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("git http-backend did not exit within 30 s of closing its output");
        }

        _ = await stderr;
    }

    private void Classify(byte[] body, string? encoding)
    {
        if (encoding is "gzip")
        {
            using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(body), System.IO.Compression.CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            body = plain.ToArray();
        }

        var text = Encoding.ASCII.GetString(body, 0, Math.Min(body.Length, 64));
        if (text.Length > 4 && (text[4..].StartsWith("want ", StringComparison.Ordinal) || text[4..].StartsWith("command=fetch", StringComparison.Ordinal)))
        {
            Interlocked.Increment(ref _packRequests);
        }
        else if (text.Length > 4 && text[4..].StartsWith("command=ls-refs", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _lsRefsRequests);
        }
    }

    /// <summary>Reads CGI header lines up to the blank line, byte by byte so the body stays in the stream.</summary>
    private static async Task<List<KeyValuePair<string, string>>> ReadCgiHeadersAsync(Stream output)
    {
        var headers = new List<KeyValuePair<string, string>>();
        var line = new List<byte>();
        var one = new byte[1];
        while (await output.ReadAsync(one) == 1)
        {
            if (one[0] != '\n')
            {
                line.Add(one[0]);
                continue;
            }

            var text = Encoding.ASCII.GetString([.. line]).TrimEnd('\r');
            line.Clear();
            if (text.Length == 0)
            {
                break;
            }

            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add(new(text[..colon].Trim(), text[(colon + 1)..].Trim()));
            }
        }

        return headers;
    }
}
