using System.Collections.Concurrent;
using System.Net;

namespace Cleanroom.TestSupport;

/// <summary>
/// A small HTTP server on 127.0.0.1 (System.Net.HttpListener) that hands each request to a test-supplied handler
/// and records what it received. The building block for the token service, redirectors, recorders and
/// fault-injecting proxies in front of the real registry.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<HttpListenerContext, Task> _handler;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<Task, bool> _inflight = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;
    private readonly Task _acceptLoop;

    private LoopbackHttpServer(HttpListener listener, int port, Func<HttpListenerContext, Task> handler)
    {
        _listener = listener;
        _handler = handler;
        Port = port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>, the form registry names take.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>
    /// Starts a server whose <paramref name="handler"/> answers every request. An exception from the handler answers
    /// 500 with its message. The handler owns the response; it is closed after the handler returns unless aborted.
    /// </summary>
    public static LoopbackHttpServer Start(Func<HttpListenerContext, Task> handler)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new LoopbackHttpServer(listener, port, handler);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // The port was taken between FreePort.Next and Start; try another.
                listener.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Close alone, not Stop then Close: on Linux each of them unregisters the prefix, and the second one finds
        // no endpoint left and binds the port again to look it up, failing with "Address already in use" whenever
        // another test's listener has taken the port meanwhile.
        // Cancelled first, so the loop ends even if its GetContextAsync never completes: one that starts while Close
        // runs can be left pending (seen in CI as a test host hung for ten minutes disposing a server that got no
        // request).
        await _stopping.CancelAsync();
        _listener.Close();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopping the listener ends the accept loop with one of these.
        }

        await Task.WhenAll(_inflight.Keys).ContinueWith(_ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().WaitAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                return;
            }

            _requests.Enqueue(Record(context.Request));
            var task = Task.Run(() => HandleAsync(context));
            _inflight[task] = true;
            _ = task.ContinueWith(t => _inflight.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            await _handler(context);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            try
            {
                context.Response.StatusCode = 500;
                var body = System.Text.Encoding.UTF8.GetBytes("test server handler failed: " + ex.Message);
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            catch (Exception inner) when (inner is HttpListenerException or InvalidOperationException or ObjectDisposedException or IOException)
            {
                // The handler already sent headers or aborted; nothing more to say.
            }
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or InvalidOperationException or ObjectDisposedException or IOException)
            {
                // Already closed or aborted by the handler.
            }
        }
    }

    private static RecordedRequest Record(HttpListenerRequest request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in request.Headers.AllKeys)
        {
            if (name is not null)
            {
                headers[name] = request.Headers[name] ?? "";
            }
        }

        return new RecordedRequest(request.HttpMethod, request.Url?.PathAndQuery ?? request.RawUrl ?? "", headers);
    }
}
