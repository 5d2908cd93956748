using System.Collections.Concurrent;
using System.Net;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>
/// An upstream of downloads on loopback: serves the files it was given by path, 404 otherwise; can hold every answer
/// until released (to pile up concurrent misses) and can redirect.
/// </summary>
internal sealed class FileServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _redirects = new(StringComparer.Ordinal);
    private readonly LoopbackHttpServer _server;
    private readonly ArrivalGate _gate = new();

    public FileServer()
    {
        _server = LoopbackHttpServer.Start(HandleAsync);
    }

    public Uri BaseUri => _server.BaseUri;

    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    public void Add(string path, byte[] content) => _files[path] = content;

    public void Redirect(string path, string location) => _redirects[path] = location;

    /// <summary>Holds every answer until <see cref="Release"/> (see <see cref="ArrivalGate.Hold"/>).</summary>
    public Task Hold(int arrivals) => _gate.Hold(arrivals);

    public void Release() => _gate.Release();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _server.DisposeAsync();
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        await _gate.PassAsync();
        var path = context.Request.Url!.AbsolutePath;
        if (_redirects.TryGetValue(path, out var location))
        {
            context.Response.StatusCode = 302;
            context.Response.RedirectLocation = location;
            return;
        }

        if (!_files.TryGetValue(path, out var content))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength64 = content.Length;
        await context.Response.OutputStream.WriteAsync(content);
    }
}
