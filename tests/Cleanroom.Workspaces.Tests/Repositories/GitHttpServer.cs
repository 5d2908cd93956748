using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Cleanroom.TestSupport;

namespace Cleanroom.Workspaces.Tests.Repositories;

/// <summary>
/// A real git smart-HTTP server on 127.0.0.1: <c>git http-backend</c> run as a CGI per request behind an
/// <see cref="LoopbackHttpServer"/> that demands <c>Authorization: Bearer TOKEN</c> and answers 401 otherwise, as a private
/// forge would. Counts the requests that start a git operation (<c>GET …/info/refs</c>), so tests can tell how many
/// times the store went to the network.
/// </summary>
internal sealed class GitHttpServer : IAsyncDisposable
{
    private readonly string _projectRoot;
    private readonly string _token;
    private readonly ConcurrentQueue<string> _authorizations = new();
    private readonly LoopbackHttpServer _server;
    private int _operations;
    private int _refused;

    private GitHttpServer(string projectRoot, string token)
    {
        _projectRoot = projectRoot;
        _token = token;
        _server = LoopbackHttpServer.Start(HandleAsync);
    }

    public int Port => _server.Port;

    /// <summary>git operations (ls-remote, fetch) that reached the server with the right token.</summary>
    public int Operations => Volatile.Read(ref _operations);

    /// <summary>While set, responses are sent in 16 KiB pieces 50 ms apart, so a transfer has a middle to interrupt.</summary>
    public bool Throttle { get; set; }

    /// <summary>Requests answered 401.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Every Authorization header received, to show the token travelled only to the server.</summary>
    public IReadOnlyList<string> Authorizations => [.. _authorizations];

    /// <summary>Serves the repositories under <paramref name="projectRoot"/> to clients presenting <paramref name="token"/>.</summary>
    public static GitHttpServer Start(string projectRoot, string token) => new(projectRoot, token);

    /// <summary>The URL of the repository directory <paramref name="name"/> under the project root.</summary>
    public string UrlOf(string name) => $"http://127.0.0.1:{Port}/{name}";

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var authorization = request.Headers["Authorization"];
            if (authorization is not null)
            {
                _authorizations.Enqueue(authorization);
            }

            if (authorization != "Bearer " + _token)
            {
                Interlocked.Increment(ref _refused);
                response.StatusCode = 401;
                response.AddHeader("WWW-Authenticate", "Basic realm=\"git\"");
                return;
            }

            if (request.HttpMethod == "GET" && request.Url!.AbsolutePath.EndsWith("/info/refs", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _operations);
            }

            await RunBackendAsync(request, response);
        }
        catch (Exception ex) when (ex is IOException or HttpListenerException or InvalidOperationException or ObjectDisposedException)
        {
            // The client went away (a killed fetch); nothing to answer.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or InvalidOperationException or ObjectDisposedException or IOException)
            {
                // Already closed.
            }
        }
    }

    /// <summary>The CGI exchange: request meta-variables in the environment, the body on stdin, headers then body on stdout.</summary>
    private async Task RunBackendAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        var info = new ProcessStartInfo("git", ["http-backend"])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var environment = info.Environment;
        environment["GIT_PROJECT_ROOT"] = _projectRoot;
        environment["GIT_HTTP_EXPORT_ALL"] = "1";
        environment["GIT_CONFIG_NOSYSTEM"] = "1";
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        environment["REQUEST_METHOD"] = request.HttpMethod;
        environment["PATH_INFO"] = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        environment["QUERY_STRING"] = request.Url.Query.TrimStart('?');
        environment["REMOTE_ADDR"] = "127.0.0.1";
        environment["CONTENT_TYPE"] = request.ContentType ?? "";
        if (request.ContentLength64 >= 0)
        {
            environment["CONTENT_LENGTH"] = request.ContentLength64.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (request.Headers["Content-Encoding"] is { } encoding)
        {
            environment["HTTP_CONTENT_ENCODING"] = encoding;
        }

        if (request.Headers["Git-Protocol"] is { } protocol)
        {
            environment["GIT_PROTOCOL"] = protocol;
        }

        using var process = Process.Start(info)!;
        try
        {
            await ExchangeAsync(process, request, response);
        }
        finally
        {
            // A client that went away leaves the backend blocked on a full pipe.
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private async Task ExchangeAsync(Process process, HttpListenerRequest request, HttpListenerResponse response)
    {
        var stderr = process.StandardError.ReadToEndAsync();
        await request.InputStream.CopyToAsync(process.StandardInput.BaseStream);
        process.StandardInput.Close();

        var output = process.StandardOutput.BaseStream;
        foreach (var line in await ReadHeadersAsync(output))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                response.StatusCode = int.Parse(value.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture);
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
        if (Throttle)
        {
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await output.ReadAsync(buffer)) > 0)
            {
                await response.OutputStream.WriteAsync(buffer.AsMemory(0, read));
                await Task.Delay(50);
            }
        }
        else
        {
            await output.CopyToAsync(response.OutputStream);
        }

        await process.WaitForExitAsync();
        await stderr;
    }

    /// <summary>CGI header lines up to the blank line, read a byte at a time so the body stays in the stream.</summary>
    private static async Task<List<string>> ReadHeadersAsync(Stream output)
    {
        var lines = new List<string>();
        var line = new List<byte>();
        var one = new byte[1];
        while (await output.ReadAsync(one) == 1)
        {
            if (one[0] == '\n')
            {
                var text = Encoding.ASCII.GetString([.. line]).TrimEnd('\r');
                if (text.Length == 0)
                {
                    break;
                }

                if (text.Contains(':', StringComparison.Ordinal))
                {
                    lines.Add(text);
                }

                line.Clear();
            }
            else
            {
                line.Add(one[0]);
            }
        }

        return lines;
    }
}
