using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Cleanroom.Oci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Images.Registry;

/// <summary>
/// A client for OCI distribution / Docker Registry HTTP API v2 registries: manifests, digests and blobs, with
/// token and Basic auth, retries, resumable verified downloads. Everything the network returns is bounded and
/// verified before use. Safe to use from several threads at once (layers download concurrently).
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly RegistryTransport _transport;
    private readonly RetryPolicy _retry;

    /// <param name="options">Which registries are plain http, credentials, retry and timeout settings.</param>
    /// <param name="logger">Receives retries (warning), auth and redirect steps (debug).</param>
    /// <param name="handler">
    /// The HTTP handler to use instead of a <see cref="SocketsHttpHandler"/> (not disposed by the client). It must not
    /// follow redirects itself, or Authorization would travel with them.
    /// </param>
    public RegistryClient(RegistryClientOptions options, ILogger? logger = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RequestTimeout, TimeSpan.Zero);
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _http = new HttpClient(handler ?? CreateHandler(options), disposeHandler: handler is null) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", options.UserAgent);
        _retry = new RetryPolicy(options.MaxAttempts, options.InitialBackoff, _logger);
        _transport = new RegistryTransport(_http, new RegistryAuthenticator(_http, options, _logger), options, _logger);
        foreach (var warning in options.Credentials.Warnings)
        {
            _logger.LogWarning("{Warning}", warning);
        }

        foreach (var note in options.Credentials.Notes)
        {
            _logger.LogDebug("{Note}", note);
        }
    }

    /// <summary>
    /// Fetches the manifest or index <paramref name="reference"/> (a tag or <c>sha256:…</c>) of
    /// <paramref name="image"/>'s repository. A digest reference is verified against the bytes. At most
    /// <see cref="ManifestDocument.MaxBytes"/> are read. Platform selection is the caller's.
    /// </summary>
    public async Task<ManifestDocument> GetManifestAsync(ImageReference image, string reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var fetched = await FetchManifestAsync(image, reference, ManifestDocument.MaxBytes, RegistryErrorKind.Protocol, cancellationToken);
        try
        {
            return ManifestDocument.Parse(fetched.Bytes, fetched.MediaType);
        }
        catch (FormatException ex)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"{fetched.Subject} is not a usable manifest: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Fetches the manifest or index <paramref name="reference"/> (a tag or <c>sha256:…</c>) as served, without
    /// parsing it: for a pull-through that hands the exact bytes on. At most <paramref name="maxBytes"/> are read; a
    /// digest reference is verified against the bytes, and so is a <c>Docker-Content-Digest</c> the registry sends.
    /// The media type is the served Content-Type without parameters (null when none); judging it is the caller's. A
    /// larger body fails with <see cref="RegistryErrorKind.SizeMismatch"/>.
    /// </summary>
    public async Task<RegistryManifestBytes> GetManifestBytesAsync(ImageReference image, string reference, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        var fetched = await FetchManifestAsync(image, reference, maxBytes, RegistryErrorKind.SizeMismatch, cancellationToken);
        if (fetched.Announced is { } announced && announced != fetched.Digest)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch,
                $"{fetched.Subject} does not match the Docker-Content-Digest {announced} the registry sent: the bytes hash to {fetched.Digest}");
        }

        return new RegistryManifestBytes(fetched.Bytes, fetched.MediaType, fetched.Digest);
    }

    /// <summary>
    /// Starts a blob download and hands over its body as a stream, for a caller that hashes and stores it itself (the
    /// gateway's cache). Getting the response is retried like every request; the body is not (the caller starts
    /// again). The stream refuses to deliver more than <paramref name="maxBytes"/> (a larger Content-Length is refused
    /// at once), fails a read that waits longer than the request timeout, and reports a broken body as
    /// <see cref="RegistryErrorKind.Unavailable"/>. The bytes are not verified here: the digest check is the caller's.
    /// </summary>
    public Task<RegistryBlobStream> OpenBlobAsync(ImageReference image, string digest, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var parsed = Digest.TryParse(digest, out var d) ? d : throw new ArgumentException($"'{digest}' is not a sha256 digest", nameof(digest));
        var target = Target(image);
        var subject = $"blob {parsed} of {target.Repository}";
        return _retry.RunAsync($"fetching {subject}", async _ =>
        {
            var response = await _transport.SendAsync(target, HttpMethod.Get, "blobs/" + parsed, null, cancellationToken);
            try
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw await RegistryFailures.FromResponseAsync(response, target, subject, _options.RequestTimeout, cancellationToken);
                }

                if (response.Content.Headers.ContentLength is { } declared && declared > maxBytes)
                {
                    throw new RegistryException(RegistryErrorKind.SizeMismatch, $"{subject} is {declared} bytes; at most {maxBytes} are accepted");
                }

                Stream body;
                try
                {
                    body = await response.Content.ReadAsStreamAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw new TransientRegistryFailure($"the connection broke before the body of {subject} ({ex.Message})", null, ex);
                }

                return new RegistryBlobStream(response, body, maxBytes, _options.RequestTimeout, subject);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }, cancellationToken);
    }

    /// <summary>
    /// The digest <paramref name="image"/> names now: for a tag, the registry's <c>Docker-Content-Digest</c> from a
    /// HEAD (or the hash of the manifest when a registry does not send it); for a pinned reference, its own digest
    /// once the registry confirms it has that manifest.
    /// </summary>
    public async Task<Digest> ResolveDigestAsync(ImageReference image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var target = Target(image);
        var reference = image.ManifestReference;
        var pinned = ParseManifestReference(reference);
        var subject = $"manifest {target.Repository}{(pinned is null ? ":" : "@")}{reference}";
        var resolved = await _retry.RunAsync<Digest?>($"resolving {subject}", async _ =>
        {
            using var response = await _transport.SendAsync(target, HttpMethod.Head, "manifests/" + reference, AcceptManifests, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                if (pinned is not null)
                {
                    return pinned;
                }

                if (response.Headers.NonValidated.TryGetValues("Docker-Content-Digest", out var values)
                    && Digest.TryParse(values.FirstOrDefault()?.Trim(), out var digest))
                {
                    return digest;
                }

                _logger.LogDebug("{Subject}: no Docker-Content-Digest on HEAD; fetching the manifest to hash it", subject);
                return null;
            }

            // Some registries do not allow HEAD; the GET below answers the same question.
            return response.StatusCode == HttpStatusCode.MethodNotAllowed
                ? null
                : throw await RegistryFailures.FromResponseAsync(response, target, subject, _options.RequestTimeout, cancellationToken);
        }, cancellationToken);
        return resolved ?? (await GetManifestAsync(image, reference, cancellationToken)).Digest;
    }

    /// <summary>
    /// Fetches a small blob (an image config) into memory; its size must be at most <paramref name="maxBytes"/> and
    /// equal to the descriptor's, and its bytes must hash to the descriptor's digest.
    /// </summary>
    public async Task<byte[]> GetBlobBytesAsync(ImageReference image, Descriptor blob, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(blob);
        var target = Target(image);
        var digest = ParseBlobDigest(blob);
        var subject = $"blob {digest} of {target.Repository}";
        if (blob.Size > maxBytes)
        {
            throw new RegistryException(RegistryErrorKind.SizeMismatch, $"{subject} is {blob.Size} bytes by its descriptor; at most {maxBytes} are accepted for it");
        }

        return await _retry.RunAsync($"fetching {subject}", async _ =>
        {
            using var response = await _transport.SendAsync(target, HttpMethod.Get, "blobs/" + digest, null, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw await RegistryFailures.FromResponseAsync(response, target, subject, _options.RequestTimeout, cancellationToken);
            }

            // Read one byte past the descriptor's size (bounded by the caller's limit) to tell "larger" from "exact".
            var limit = (int)Math.Min(blob.Size + 1, maxBytes + 1L);
            var bytes = await ResponseBody.ReadAsync(response, limit, _options.RequestTimeout,
                size => new RegistryException(RegistryErrorKind.SizeMismatch, $"{subject} is larger than its descriptor says ({size} bytes served or announced, {blob.Size} expected)"),
                cancellationToken);
            if (bytes.Length != blob.Size)
            {
                throw new RegistryException(RegistryErrorKind.SizeMismatch, bytes.Length > blob.Size
                    ? $"{subject} is larger than its descriptor says ({blob.Size} bytes)"
                    : $"{subject} is truncated: it serves {bytes.Length} bytes but the descriptor says {blob.Size}");
            }

            var actual = Digest.Of(bytes);
            return actual == digest ? bytes : throw new RegistryException(RegistryErrorKind.DigestMismatch,
                $"{subject} does not match its digest: the bytes served hash to {actual}");
        }, cancellationToken);
    }

    /// <summary>
    /// Downloads a blob to <paramref name="destinationPath"/>: streamed into <c>destinationPath.partial</c> while
    /// hashing, resuming an existing partial file with a Range request, never reading more than the descriptor's
    /// size, verified, fsynced and renamed into place atomically. <paramref name="bytesDone"/> gets the running total.
    /// Transient failures are retried from what is on disk; when they persist the error is
    /// <see cref="RegistryErrorKind.Unavailable"/> and the partial file is kept for the next attempt. A size or digest
    /// mismatch deletes it. One destination must not be downloaded twice at the same time.
    /// </summary>
    public Task DownloadBlobAsync(ImageReference image, Descriptor blob, string destinationPath, IProgress<long>? bytesDone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        var digest = ParseBlobDigest(blob);
        ArgumentOutOfRangeException.ThrowIfNegative(blob.Size);
        var download = new BlobDownload(_transport, _retry, Target(image), blob, digest, destinationPath, bytesDone, _options.RequestTimeout, _logger);
        return download.RunAsync(cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// One manifest fetch, bounded and (for a digest reference) verified; parsing is the caller's. A body over
    /// <paramref name="maxBytes"/> fails with <paramref name="tooLarge"/> (image pulls have always called it a protocol error).
    /// </summary>
    private Task<FetchedManifest> FetchManifestAsync(ImageReference image, string reference, int maxBytes, RegistryErrorKind tooLarge, CancellationToken cancellationToken)
    {
        var target = Target(image);
        var pinned = ParseManifestReference(reference);
        var subject = $"manifest {target.Repository}{(pinned is null ? ":" : "@")}{reference}";
        return _retry.RunAsync($"fetching {subject}", async _ =>
        {
            using var response = await _transport.SendAsync(target, HttpMethod.Get, "manifests/" + reference, AcceptManifests, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw await RegistryFailures.FromResponseAsync(response, target, subject, _options.RequestTimeout, cancellationToken);
            }

            var bytes = await ResponseBody.ReadAsync(response, maxBytes, _options.RequestTimeout,
                size => new RegistryException(tooLarge, $"{subject} is {size} bytes; manifests are limited to {maxBytes}"),
                cancellationToken);
            var actual = Digest.Of(bytes);
            if (pinned is not null && actual != pinned)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{subject} does not match its digest: the bytes served hash to {actual}");
            }

            var announced = response.Headers.NonValidated.TryGetValues("Docker-Content-Digest", out var values)
                && Digest.TryParse(values.FirstOrDefault()?.Trim(), out var header) ? header : null;
            return new FetchedManifest(subject, bytes, response.Content.Headers.ContentType?.MediaType, actual, announced);
        }, cancellationToken);
    }

    /// <summary>The base URL the client uses for <paramref name="registry"/>: its API lives below <c>v2/</c> there.</summary>
    public Uri BaseUriFor(string registry) => RegistryHosts.BaseUri(registry, _options.PlainHttpRegistries, _options.BaseUris);

    private RegistryTarget Target(ImageReference image) => RegistryTarget.For(image, _options);

    private static void AcceptManifests(HttpRequestHeaders headers)
    {
        foreach (var mediaType in MediaTypes.AcceptedManifests)
        {
            headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }
    }

    /// <summary>The digest when <paramref name="reference"/> is one, null for a tag; anything else is refused before it reaches a URL.</summary>
    private static Digest? ParseManifestReference(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (Digest.TryParse(reference, out var digest))
        {
            return digest;
        }

        return TagPattern().IsMatch(reference)
            ? null
            : throw new ArgumentException($"'{reference}' is neither a tag nor a sha256 digest", nameof(reference));
    }

    private static Digest ParseBlobDigest(Descriptor blob) =>
        Digest.TryParse(blob.Digest, out var digest) ? digest : throw new ArgumentException($"'{blob.Digest}' is not a sha256 digest", nameof(blob));

    private static SocketsHttpHandler CreateHandler(RegistryClientOptions options) => new()
    {
        // Redirects are followed by RegistryTransport, which drops Authorization when the host changes.
        AllowAutoRedirect = false,
        // Blobs are hashed as served; a transparently decompressed body would never match its digest.
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = options.RequestTimeout < TimeSpan.FromSeconds(30) ? options.RequestTimeout : TimeSpan.FromSeconds(30),
        // Registries sit behind load balancers and CDNs whose addresses change; do not pin a connection forever.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxResponseHeadersLength = 64,
    };

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    private sealed record FetchedManifest(string Subject, byte[] Bytes, string? MediaType, Digest Digest, Digest? Announced);
}
