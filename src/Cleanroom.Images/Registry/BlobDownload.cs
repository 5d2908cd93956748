using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Cleanroom.Oci;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Images.Registry;

/// <summary>
/// One blob download to a file: streamed to <c>destination.partial</c> and hashed on the way, resumed with a Range
/// request when a partial file exists (its prefix is re-hashed first, since nothing on disk is trusted), bounded by
/// the descriptor's size, verified, fsynced and renamed into place. Transient failures retry from what is on disk;
/// a size or digest mismatch deletes the partial file, since its bytes are known bad.
/// </summary>
internal sealed class BlobDownload
{
    private const int BufferSize = 256 * 1024;

    private readonly RegistryTransport _transport;
    private readonly RetryPolicy _retry;
    private readonly RegistryTarget _target;
    private readonly Descriptor _blob;
    private readonly Digest _digest;
    private readonly string _destination;
    private readonly string _partial;
    private readonly IProgress<long>? _progress;
    private readonly TimeSpan _stall;
    private readonly ILogger _logger;

    public BlobDownload(RegistryTransport transport, RetryPolicy retry, RegistryTarget target, Descriptor blob, Digest digest, string destination, IProgress<long>? progress, TimeSpan stall, ILogger logger)
    {
        _transport = transport;
        _retry = retry;
        _target = target;
        _blob = blob;
        _digest = digest;
        _destination = destination;
        _partial = destination + ".partial";
        _progress = progress;
        _stall = stall;
        _logger = logger;
    }

    private string Subject => $"blob {_digest} of {_target.Repository}";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_destination))!);
        var mayResume = true;
        try
        {
            while (true)
            {
                var (actual, resumed) = await _retry.RunAsync($"downloading {Subject}", _ => AttemptAsync(mayResume, cancellationToken), cancellationToken);
                if (actual == _digest)
                {
                    File.Move(_partial, _destination, overwrite: true);
                    return;
                }

                if (resumed && mayResume)
                {
                    // The bytes from disk may be the bad ones (an earlier run, a different blob, a torn write): fetch
                    // everything once more before blaming the registry.
                    _logger.LogWarning("{Subject}: the resumed download hashes to {Actual}; downloading it again from the start", Subject, actual);
                    File.Delete(_partial);
                    mayResume = false;
                    continue;
                }

                throw new RegistryException(RegistryErrorKind.DigestMismatch,
                    $"{Subject} does not match its digest: the {_blob.Size} bytes served hash to {actual}");
            }
        }
        catch (RegistryException ex) when (ex.Kind is RegistryErrorKind.DigestMismatch or RegistryErrorKind.SizeMismatch)
        {
            File.Delete(_partial);
            throw;
        }
    }

    /// <summary>One try: continue (or start) the partial file, return the digest of the complete file.</summary>
    private async Task<(Digest Actual, bool Resumed)> AttemptAsync(bool mayResume, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var offset = mayResume ? await HashExistingPrefixAsync(hash, cancellationToken) : StartOver(hash);
        var resumed = offset > 0;
        _progress?.Report(offset);
        if (offset == _blob.Size)
        {
            // Complete already (an earlier run got every byte) or empty: make sure the bytes are on disk, then verify.
            await using (var file = new FileStream(_partial, FileMode.OpenOrCreate, FileAccess.Write))
            {
                file.Flush(flushToDisk: true);
            }

            return (Digest.FromHash(hash.GetHashAndReset()), resumed);
        }

        var response = await _transport.SendAsync(_target, HttpMethod.Get, "blobs/" + _digest, headers =>
        {
            if (resumed)
            {
                headers.Range = new RangeHeaderValue(offset, null);
            }
        }, cancellationToken);
        using (response)
        {
            if (resumed && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The registry says our prefix is past the end of the blob, so the prefix is not this blob.
                StartOver(hash);
                throw new TransientRegistryFailure($"registry {_target.Registry} would not resume {Subject} at byte {offset}; starting over", TimeSpan.Zero);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw await RegistryFailures.FromResponseAsync(response, _target, Subject, _stall, cancellationToken);
            }

            if (resumed && response.StatusCode != HttpStatusCode.PartialContent)
            {
                _logger.LogDebug("{Subject}: the server ignored the Range request; downloading from the start", Subject);
                offset = StartOver(hash);
                resumed = false;
                _progress?.Report(0);
            }
            else if (resumed)
            {
                CheckContentRange(response.Content.Headers.ContentRange, offset);
            }

            var remaining = _blob.Size - offset;
            CheckDeclaredLength(response.Content.Headers.ContentLength, remaining, offset);
            await StreamToPartialAsync(response, hash, offset, response.Content.Headers.ContentLength.HasValue, cancellationToken);
            return (Digest.FromHash(hash.GetHashAndReset()), resumed);
        }
    }

    private async Task StreamToPartialAsync(HttpResponseMessage response, IncrementalHash hash, long offset, bool lengthDeclared, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = new FileStream(_partial, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            file.SetLength(offset);
            file.Position = offset;
            using var guard = new StallGuard(_stall, cancellationToken);
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new TransientRegistryFailure($"the connection broke before the body of {Subject} ({ex.Message})", null, ex);
            }

            await using (body)
            {
                while (true)
                {
                    var remaining = _blob.Size - offset;
                    // At the end, read once more (one byte is enough) to catch a body that is longer than the blob.
                    var want = (int)Math.Min(BufferSize, Math.Max(remaining, 1));
                    var read = await guard.ReadAsync(body, buffer.AsMemory(0, want));
                    if (read == 0)
                    {
                        break;
                    }

                    if (remaining == 0)
                    {
                        throw Larger();
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    hash.AppendData(buffer, 0, read);
                    offset += read;
                    _progress?.Report(offset);
                }
            }

            if (offset < _blob.Size)
            {
                // With a Content-Length, HttpClient reports a short body as an error before we get here; without one
                // the server ended the body cleanly, which means it thinks the blob is this short.
                if (lengthDeclared)
                {
                    throw new TransientRegistryFailure($"the body of {Subject} ended after {offset} of {_blob.Size} bytes");
                }

                throw Truncated(offset);
            }

            file.Flush(flushToDisk: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CheckContentRange(ContentRangeHeaderValue? range, long offset)
    {
        if (range is null || range.From != offset || (range.To is { } to && to >= _blob.Size))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"registry {_target.Registry} answered a resume of {Subject} at byte {offset} with the range '{range}'");
        }

        if (range.Length is { } total && total != _blob.Size)
        {
            throw total > _blob.Size ? Larger() : Truncated(total);
        }
    }

    private void CheckDeclaredLength(long? declared, long remaining, long offset)
    {
        if (declared > remaining)
        {
            throw Larger();
        }

        if (declared < remaining)
        {
            throw Truncated(offset + declared.Value);
        }
    }

    private RegistryException Larger() => new(RegistryErrorKind.SizeMismatch,
        $"{Subject} is larger than the manifest says ({_blob.Size} bytes); refusing to read more");

    private RegistryException Truncated(long served) => new(RegistryErrorKind.SizeMismatch,
        $"{Subject} is truncated: it serves {served} bytes but the manifest says {_blob.Size}");

    /// <summary>Hashes the partial file's bytes and returns how many there are; a file longer than the blob is discarded.</summary>
    private async Task<long> HashExistingPrefixAsync(IncrementalHash hash, CancellationToken cancellationToken)
    {
        if (!File.Exists(_partial))
        {
            return 0;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = new FileStream(_partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            if (file.Length > _blob.Size)
            {
                file.Close();
                return StartOver(hash);
            }

            long total = 0;
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private long StartOver(IncrementalHash hash)
    {
        File.Delete(_partial);
        hash.GetHashAndReset();
        return 0;
    }
}
