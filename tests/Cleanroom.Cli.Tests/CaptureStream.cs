using System.Text;

namespace Cleanroom.Cli.Tests;

/// <summary>A write-only stream that records bytes thread-safely and lets a test wait for some text to appear.</summary>
internal sealed class CaptureStream : Stream
{
    private readonly Lock _gate = new();
    private readonly MemoryStream _data = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    /// <summary>Throw IOException (as a closed pipe does) once this many bytes were written; -1 never.</summary>
    public long FailAfterBytes { get; init; } = -1;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public byte[] Bytes
    {
        get
        {
            lock (_gate)
            {
                return _data.ToArray();
            }
        }
    }

    public string Text => Encoding.UTF8.GetString(Bytes);

    public Task WaitForAsync(string text)
    {
        lock (_gate)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Encoding.UTF8.GetString(_data.ToArray()).Contains(text, StringComparison.Ordinal))
            {
                seen.SetResult();
            }
            else
            {
                _waiters.Add((text, seen));
            }

            return seen.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            if (FailAfterBytes >= 0 && _data.Length >= FailAfterBytes)
            {
                throw new IOException("Broken pipe");
            }

            _data.Write(buffer);
            if (_waiters.Count == 0)
            {
                return;
            }

            var text = Encoding.UTF8.GetString(_data.ToArray());
            foreach (var waiter in _waiters.Where(w => text.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                waiter.Seen.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
