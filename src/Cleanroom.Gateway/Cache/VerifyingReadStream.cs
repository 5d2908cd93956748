using System.IO.Hashing;
using System.Security.Cryptography;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// A read-only stream over a stored blob that hashes every byte it hands out and, on reaching the end, compares the
/// hash with the blob's recorded read check (<see cref="BlobReadCheck"/>, XXH128) or, when it has none, its SHA-256
/// with the blob's name. On a mismatch it reports the corruption (the store deletes the file) and throws, so a
/// caller that streams the blob to a client fails the response instead of completing it with bad bytes. A reader
/// that stops early gets no verdict: the bytes it took were not all checked, which is why the store's users always
/// read to the end. It reads the file with positional reads through a lease (<see cref="BlobFile"/>), so other
/// readers may share the descriptor; the lease ends when the stream is disposed.
/// </summary>
internal sealed class VerifyingReadStream : Stream
{
    private readonly BlobFile _file;
    private readonly BlobDigest _expected;
    private readonly Action _onMismatch;
    private readonly XxHash128? _fast;
    private readonly IncrementalHash? _sha256;
    private long _position;
    private bool _verified;
    private bool _leaseEnded;
    private CacheIntegrityException? _failure;

    /// <param name="file">The blob's file, leased for this stream (the lease ends on disposal).</param>
    /// <param name="expected">The blob's digest (its name).</param>
    /// <param name="onMismatch">Told when the bytes do not match.</param>
    public VerifyingReadStream(BlobFile file, BlobDigest expected, Action onMismatch)
    {
        _file = file;
        _expected = expected;
        _onMismatch = onMismatch;
        if (file.ReadCheck is null)
        {
            _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }
        else
        {
            _fast = new XxHash128();
        }
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <summary>The file's length, so a server can send a Content-Length.</summary>
    public override long Length => _file.Length;

    /// <inheritdoc/>
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("a verifying stream reads from the start to the end");
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        // An empty buffer asks for nothing; its 0 is not end of file, so it must not reach the verdict in Account
        // (which would call a good blob corrupt and delete it). The byte[] overloads funnel through here.
        if (buffer.IsEmpty)
        {
            return 0;
        }

        // Never past the length the file had when opened: a file grown since is read as it was (and verified so), and
        // the read after the last byte answers "end" without a system call. A short read is a truncated file; its bytes
        // then fail the verdict.
        var read = _position < _file.Length ? RandomAccess.Read(_file.Handle, buffer[..Wanted(buffer.Length)], _position) : 0;
        _position += read;
        return Account(buffer[..read]);
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // As in Read: a zero-length read is not end of file (Kestrel and pipes use them to wait for data).
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var read = _position < _file.Length ? await RandomAccess.ReadAsync(_file.Handle, buffer[..Wanted(buffer.Length)], _position, cancellationToken) : 0;
        _position += read;
        return Account(buffer.Span[..read]);
    }

    /// <summary>
    /// Declares the reading done and gives the verdict over the bytes read so far: returns when they are the whole
    /// blob, unchanged; throws <see cref="CacheIntegrityException"/> (and reports the corruption once) when they are not,
    /// a file shorter than when it was opened included. A reader that knows the length calls this instead of reading
    /// once more to find the end.
    /// </summary>
    public void Finish() => _ = Account([]);

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a verifying stream reads from the start to the end");

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("a verifying stream is read-only");

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a verifying stream is read-only");

    // No DisposeAsync of its own: Stream's runs Dispose, and ending a lease has nothing to wait for.

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_leaseEnded)
            {
                _leaseEnded = true;
                _file.EndLease();
            }

            _sha256?.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Wanted(int room) => (int)Math.Min(room, _file.Length - _position);

    private int Account(ReadOnlySpan<byte> read)
    {
        if (read.Length > 0)
        {
            if (_fast is not null)
            {
                _fast.Append(read);
            }
            else
            {
                _sha256!.AppendData(read);
            }

            return read.Length;
        }

        // End of file: verify once; a later read at the end repeats the verdict without reporting it twice.
        if (_failure is not null)
        {
            throw _failure;
        }

        if (!_verified)
        {
            _failure = Verdict();
            if (_failure is not null)
            {
                _onMismatch();
                throw _failure;
            }

            _verified = true;
        }

        return 0;
    }

    /// <summary>Null when the bytes read are the blob's, else the failure that says what differed.</summary>
    private CacheIntegrityException? Verdict()
    {
        if (_fast is not null)
        {
            return _fast.GetCurrentHashAsUInt128() == _file.ReadCheck
                ? null
                : new CacheIntegrityException(
                    $"the cached blob {_expected} changed on disk (its bytes no longer match the check recorded when it was stored); it was removed and will be fetched again",
                    _expected, actual: null);
        }

        var actual = BlobDigest.FromHash(_sha256!.GetHashAndReset());
        return actual == _expected
            ? null
            : new CacheIntegrityException(
                $"the cached blob {_expected} changed on disk (its bytes are {actual}); it was removed and will be fetched again",
                _expected, actual);
    }
}
