using System.Collections.Concurrent;
using System.Net;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>
/// A registry played by the test: it answers <c>/v2/</c>, the manifests and blobs it was given (raw bytes, so they
/// can be anything a hostile registry might send), and 404 for everything else, and records every request. Use it
/// where a real registry would refuse to store what the test needs to serve.
/// </summary>
public sealed class ScriptedRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (byte[] Body, string ContentType)> _documents = new(StringComparer.Ordinal);
    private readonly LoopbackHttpServer _server;

    public ScriptedRegistry() => _server = LoopbackHttpServer.Start(AnswerAsync);

    /// <summary><c>127.0.0.1:PORT</c>: a loopback registry, spoken to over plain http.</summary>
    public string Host => _server.Host;

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    /// <summary>The blob requests received so far (GET or HEAD of <c>/v2/…/blobs/…</c>).</summary>
    public IReadOnlyList<RecordedRequest> BlobRequests => [.. Requests.Where(r => r.PathAndQuery.Contains("/blobs/", StringComparison.Ordinal))];

    /// <summary>Serves <paramref name="body"/> as the manifest <c>repository:tag</c> and by its digest; returns the digest.</summary>
    public Digest ServeManifest(string repository, string? tag, byte[] body, string contentType)
    {
        var digest = Digest.Of(body);
        _documents[$"/v2/{repository}/manifests/{digest}"] = (body, contentType);
        if (tag is not null)
        {
            _documents[$"/v2/{repository}/manifests/{tag}"] = (body, contentType);
        }

        return digest;
    }

    /// <summary>Serves <paramref name="body"/> as a blob of <paramref name="repository"/> under its digest.</summary>
    public Digest ServeBlob(string repository, byte[] body)
    {
        var digest = Digest.Of(body);
        _documents[$"/v2/{repository}/blobs/{digest}"] = (body, "application/octet-stream");
        return digest;
    }

    /// <summary>The reference a client pulls <c>repository:tag</c> by.</summary>
    public ImageReference Reference(string repositoryAndTag) => ImageReference.Parse($"{Host}/{repositoryAndTag}");

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url?.AbsolutePath ?? "";
        if (path == "/v2/")
        {
            context.Response.StatusCode = 200;
            return;
        }

        if (!_documents.TryGetValue(path, out var document))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.Headers["Content-Type"] = document.ContentType;
        context.Response.Headers["Docker-Content-Digest"] = Digest.Of(document.Body).ToString();
        context.Response.ContentLength64 = document.Body.Length;
        if (context.Request.HttpMethod != "HEAD")
        {
            await context.Response.OutputStream.WriteAsync(document.Body);
        }
    }
}
