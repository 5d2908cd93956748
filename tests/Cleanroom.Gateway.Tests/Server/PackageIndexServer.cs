using System.Collections.Concurrent;
using System.Net;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>
/// A static package index on loopback (PyPI simple pages, RubyGems compact index and gem files): each path answers
/// with its content type and bytes, optionally another variant for a PEP 691 JSON <c>Accept</c>; 404 otherwise. Can
/// hold every answer until released (to pile up concurrent misses) and be stopped (to show stale answers).
/// </summary>
internal sealed class PackageIndexServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string Type, byte[] Body)> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Type, byte[] Body)> _json = new(StringComparer.Ordinal);
    private readonly LoopbackHttpServer _server;
    private readonly ArrivalGate _gate = new();
    private int _stopped;

    public PackageIndexServer()
    {
        _server = LoopbackHttpServer.Start(HandleAsync);
    }

    public Uri BaseUri => _server.BaseUri;

    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    /// <summary>Requests whose path starts with <paramref name="prefix"/>.</summary>
    public int Count(string prefix) => Requests.Count(r => r.PathAndQuery.StartsWith(prefix, StringComparison.Ordinal));

    public void Add(string path, string contentType, byte[] body) => _files[path] = (contentType, body);

    /// <summary>The answer for <paramref name="path"/> when the request's Accept names PEP 691 JSON.</summary>
    public void AddJson(string path, byte[] body) => _json[path] = ("application/vnd.pypi.simple.v1+json", body);

    /// <summary>Holds every answer until <see cref="Release"/> (see <see cref="ArrivalGate.Hold"/>).</summary>
    public Task Hold(int arrivals) => _gate.Hold(arrivals);

    public void Release() => _gate.Release();

    /// <summary>Stops listening: the port refuses connections from now on.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            Release();
            await _server.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task HandleAsync(HttpListenerContext context)
    {
        await _gate.PassAsync();
        var path = context.Request.Url!.AbsolutePath;
        var wantsJson = (context.Request.Headers["Accept"] ?? "").Contains("application/vnd.pypi.simple.v1+json", StringComparison.Ordinal);
        if (!((wantsJson && _json.TryGetValue(path, out var file)) || _files.TryGetValue(path, out file)))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = file.Type;
        context.Response.ContentLength64 = file.Body.Length;
        await context.Response.OutputStream.WriteAsync(file.Body);
    }
}
