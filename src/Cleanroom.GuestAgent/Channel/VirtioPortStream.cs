using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Channel;

/// <summary>
/// One host connection on a virtio-serial port (<see cref="VirtioPort"/> owns the descriptor). Waits are poll()s
/// on the non-blocking descriptor, because the port's blocking semantics do not suit a server: a blocking write
/// while no host is connected waits for the *next* host and then delivers this connection's stale frames to it.
/// Here the stream is hung up for good once a read sees end of file (the driver's signal that the host left) or a
/// write sees the port's hang-up, and every later write fails; the next host gets a new stream. Cancelling a read
/// poisons the stream too: the connection is abandoned afterwards anyway. A read waits for the port's input signal
/// (<see cref="PortInputSignal"/>) rather than in poll() on the port, which would wake it for every output buffer
/// the host takes; a write waits for room in poll(), woken by exactly those.
/// </summary>
internal sealed class VirtioPortStream : Stream
{
    private readonly WakeEvent _cancel = new();
    private readonly int _fd;
    private readonly PortInputSignal _input;
    private readonly bool _ownsInput;
    private long _bytesRead;
    private volatile bool _cancelled;
    private volatile bool _hungUp;

    /// <param name="fd">The port, non-blocking.</param>
    /// <param name="input">The port's input signal (the port's owner keeps it for every connection).</param>
    public VirtioPortStream(int fd, PortInputSignal input)
    {
        _fd = fd;
        _input = input;
    }

    /// <summary>A stream on a descriptor used for one connection only (a socket pair's end): its input signal goes with it.</summary>
    public VirtioPortStream(int fd)
        : this(fd, PortInputSignal.Attach(fd)) => _ownsInput = true;

    /// <summary>Bytes received so far (0: no host spoke on this connection).</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => ReadCore(buffer, CancellationToken.None);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Data is usually there already (frames arrive in bursts): only a read that must wait leaves this thread.
        var immediate = TryRead(buffer.Span);
        if (immediate >= 0)
        {
            return immediate;
        }

        // Waiting blocks in poll(): do it on a parked worker thread, never on the thread pool. With one vCPU the
        // pool has a single thread, and parking it here stalled every other continuation until the pool's
        // starvation detector added a thread (about half a second).
        await using var registration = cancellationToken.Register(Cancel);
        var read = 0;
        await WorkerThreads.Run(() => read = ReadCore(buffer.Span, cancellationToken));
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var offset = 0;
            while (offset < buffer.Length)
            {
                ThrowIfHungUp();
                var written = LibC.Write(_fd, start + offset, buffer.Length - offset);
                if (written > 0)
                {
                    offset += (int)written;
                    continue;
                }

                var errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                if (errno != Errno.EAGAIN)
                {
                    throw new IOException("write to the host failed: " + Errno.Describe(errno));
                }

                // Full queue, or no host: POLLOUT means room again; a hang-up without it means the host left.
                var events = WaitFor(_fd, LibC.POLLOUT);
                if ((events & LibC.POLLOUT) == 0 && (events & (LibC.POLLHUP | LibC.POLLERR)) != 0)
                {
                    HangUp();
                }
            }
        }
    }

    /// <summary>Writes synchronously: writes are serialised by the frame writer and rarely wait.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The server has stopped using the stream by now; this only ends any straggler.
            Cancel();
            _cancel.Dispose();
            if (_ownsInput)
            {
                _input.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void Cancel()
    {
        _cancelled = true;
        _cancel.Set();
    }

    /// <summary>Marks the connection gone, wakes a writer waiting for room, and fails the caller.</summary>
    private void HangUp()
    {
        _hungUp = true;
        _cancel.Set();
        ThrowIfHungUp();
    }

    private void ThrowIfHungUp()
    {
        if (_hungUp)
        {
            throw new IOException("the host disconnected");
        }
    }

    /// <summary>Bytes read, 0 at end of file, or -1 when nothing is available yet.</summary>
    private unsafe int TryRead(Span<byte> buffer)
    {
        while (true)
        {
            nint read;
            fixed (byte* pointer = buffer)
            {
                read = LibC.Read(_fd, pointer, buffer.Length);
            }

            if (read > 0)
            {
                Interlocked.Add(ref _bytesRead, read);
                return (int)read;
            }

            if (read == 0)
            {
                // No host: whatever this connection still wants to send must not reach the next one.
                _hungUp = true;
                _cancel.Set();
                return 0;
            }

            var errno = Errno.Last;
            if (errno == Errno.EAGAIN)
            {
                return -1;
            }

            if (errno != Errno.EINTR)
            {
                throw new IOException("read from the host failed: " + Errno.Describe(errno));
            }
        }
    }

    private int ReadCore(Span<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Claimed before the read that finds nothing, so input arriving after that read signals this thread.
            _input.Claim();
            var read = TryRead(buffer);
            if (read >= 0)
            {
                return read;
            }

            // Input, or the host connecting or leaving (the read then sees end of file).
            WaitFor(_input.Fd, LibC.POLLIN);
            _input.Drain();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Polls <paramref name="fd"/> for <paramref name="events"/> (or a hang-up); throws once the stream was cancelled.</summary>
    private unsafe short WaitFor(int fd, short events)
    {
        var polls = stackalloc LibC.PollFd[2];
        while (true)
        {
            ThrowIfHungUp();
            if (_cancelled)
            {
                throw new OperationCanceledException("the connection was abandoned");
            }

            polls[0] = new LibC.PollFd { Fd = fd, Events = events };
            polls[1] = new LibC.PollFd { Fd = _cancel.Fd, Events = LibC.POLLIN };
            if (LibC.Poll(polls, 2, -1) < 0)
            {
                if (Errno.Last == Errno.EINTR)
                {
                    continue;
                }

                throw new IOException("poll on the port failed: " + Errno.DescribeLast());
            }

            if (polls[0].ReturnedEvents != 0)
            {
                return polls[0].ReturnedEvents;
            }
        }
    }
}
