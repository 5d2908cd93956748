namespace Cleanroom.Gateway.Tests;

/// <summary>Source streams that misbehave part-way, for showing that a put leaves nothing behind.</summary>
internal static class TestStreams
{
    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Hands out <paramref name="prefix"/> and then throws.</summary>
    public static Stream FailingAfter(byte[] prefix) => new ScriptedStream(prefix, afterPrefix: _ => throw new IOException("upstream connection reset"));

    /// <summary>Hands out <paramref name="prefix"/>, signals, then blocks until the read is cancelled.</summary>
    public static Stream BlockingAfter(byte[] prefix, TaskCompletionSource reached) => new ScriptedStream(prefix, async token =>
    {
        reached.TrySetResult();
        await Task.Delay(Timeout.Infinite, token);
    });

    /// <summary>
    /// Hands out <paramref name="prefix"/>, signals, then waits for <paramref name="release"/> whatever its token says,
    /// and ends: an upstream that ignores cancellation.
    /// </summary>
    public static Stream EndingWhenReleased(byte[] prefix, TaskCompletionSource reached, Task release) => new ScriptedStream(prefix, async _ =>
    {
        reached.TrySetResult();
        await release;
    });

    /// <summary>Endless bytes.</summary>
    public static Stream Endless() => new ScriptedStream([], afterPrefix: null, endless: true);

    private sealed class ScriptedStream(byte[] prefix, Func<CancellationToken, Task>? afterPrefix, bool endless = false) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (endless)
            {
                buffer.Span.Fill(0x5a);
                return buffer.Length;
            }

            if (_position < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer.Span);
                _position += n;
                return n;
            }

            if (afterPrefix is not null)
            {
                await afterPrefix(cancellationToken);
            }

            return 0;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
