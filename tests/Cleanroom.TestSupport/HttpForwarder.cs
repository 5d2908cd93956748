using System.Net;

namespace Cleanroom.TestSupport;

/// <summary>
/// Forwards a request a <see cref="LoopbackHttpServer"/> received to another server and relays the answer: the
/// "real registry behind a proxy" piece of redirect, fault-injection and header-recording tests.
/// </summary>
public static class HttpForwarder
{
    private static readonly string[] RequestHeaders = ["Accept", "Range", "Content-Type"];
    private static readonly string[] ResponseHeaders = ["Content-Range", "Accept-Ranges", "Docker-Content-Digest", "Docker-Distribution-Api-Version", "Location", "WWW-Authenticate", "Retry-After", "Etag"];

    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
        UseCookies = false,
    })
    { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>
    /// Sends the request (same method, path and query, body) to <paramref name="destination"/> and writes its
    /// response back. Authorization is forwarded only when <paramref name="forwardAuthorization"/> is set.
    /// With <paramref name="abortAfterBytes"/>, the connection is cut after that many body bytes while the full
    /// Content-Length is announced: a dropped connection, as a client sees one.
    /// </summary>
    public static async Task ForwardAsync(HttpListenerContext context, Uri destination, bool forwardAuthorization = false, long? abortAfterBytes = null)
    {
        var incoming = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(incoming.HttpMethod), new Uri(destination, incoming.Url!.PathAndQuery));
        if (incoming.HasEntityBody)
        {
            var body = new MemoryStream();
            await incoming.InputStream.CopyToAsync(body);
            body.Position = 0;
            request.Content = new StreamContent(body);
        }

        foreach (var name in RequestHeaders)
        {
            if (incoming.Headers[name] is { } value)
            {
                if (!request.Headers.TryAddWithoutValidation(name, value))
                {
                    request.Content?.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }

        if (forwardAuthorization && incoming.Headers["Authorization"] is { } authorization)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        foreach (var name in ResponseHeaders)
        {
            if (response.Headers.NonValidated.TryGetValues(name, out var values) || response.Content.Headers.NonValidated.TryGetValues(name, out values))
            {
                foreach (var value in values)
                {
                    outgoing.AddHeader(name, value);
                }
            }
        }

        if (response.Content.Headers.ContentType is { } contentType)
        {
            outgoing.ContentType = contentType.ToString();
        }

        if (response.Content.Headers.ContentLength is { } length)
        {
            outgoing.ContentLength64 = length;
        }

        if (incoming.HttpMethod == "HEAD")
        {
            return;
        }

        await using var source = await response.Content.ReadAsStreamAsync();
        await CopyAsync(source, outgoing, abortAfterBytes);
    }

    private static async Task CopyAsync(Stream source, HttpListenerResponse outgoing, long? abortAfterBytes)
    {
        var buffer = new byte[81920];
        long sent = 0;
        while (true)
        {
            var want = abortAfterBytes is { } limit ? (int)Math.Min(buffer.Length, limit - sent) : buffer.Length;
            if (want == 0)
            {
                await outgoing.OutputStream.FlushAsync();
                // Let the client take what was sent before the cut: a reset can discard data it has not read yet.
                await Task.Delay(100);
                outgoing.Abort();
                return;
            }

            var read = await source.ReadAsync(buffer.AsMemory(0, want));
            if (read == 0)
            {
                return;
            }

            await outgoing.OutputStream.WriteAsync(buffer.AsMemory(0, read));
            sent += read;
        }
    }
}
