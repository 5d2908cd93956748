using System.Buffers.Binary;
using System.Security.Cryptography;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>
/// A read-only, seekable stream of pseudo-random bytes that depend only on (seed, position): big test files without
/// holding them in memory, incompressible like real binaries, and reproducible so a test can check what arrived.
/// </summary>
public sealed class DeterministicContentStream : Stream
{
    private readonly long _length;
    private readonly ulong _seed;
    private long _position;

    public DeterministicContentStream(long length, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _length = length;
        _seed = (ulong)seed * 0x9E3779B97F4A7C15UL;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>All <paramref name="length"/> bytes, for small files and for assertions.</summary>
    public static byte[] Bytes(long length, int seed)
    {
        var bytes = new byte[length];
        using var stream = new DeterministicContentStream(length, seed);
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The sha256 digest of the content, computed by streaming.</summary>
    public static Digest DigestOf(long length, int seed)
    {
        using var stream = new DeterministicContentStream(length, seed);
        return Digest.FromHash(SHA256.HashData(stream));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, Math.Max(0, _length - _position));
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; i < count;)
        {
            var position = _position + i;
            var index = position >> 3;
            var skip = (int)(position & 7);
            BinaryPrimitives.WriteUInt64LittleEndian(word, Mix(_seed + (ulong)index));
            var take = Math.Min(8 - skip, count - i);
            word.Slice(skip, take).CopyTo(buffer[i..]);
            i += take;
        }

        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>SplitMix64's finaliser: a counter in, well-mixed bits out.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
