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
    private TaskCompletionSource _gate = CompletedGate();
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrivals;
    private int _arrivalsWanted = int.MaxValue;

    public FileServer()
    {
        _server = LoopbackHttpServer.Start(HandleAsync);
    }

    public Uri BaseUri => _server.BaseUri;

    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    public void Add(string path, byte[] content) => _files[path] = content;

    public void Redirect(string path, string location) => _redirects[path] = location;

    /// <summary>Holds every answer until <see cref="Release"/>; the returned task completes when <paramref name="arrivals"/> requests are held.</summary>
    public Task Hold(int arrivals)
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _arrivals, 0);
        Volatile.Write(ref _arrivalsWanted, arrivals);
        return _arrived.Task;
    }

    public void Release() => _gate.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _server.DisposeAsync();
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        if (Interlocked.Increment(ref _arrivals) >= Volatile.Read(ref _arrivalsWanted))
        {
            _arrived.TrySetResult();
        }

        await _gate.Task.WaitAsync(TimeSpan.FromMinutes(1));
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
