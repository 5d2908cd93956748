using System.Buffers;
using System.Diagnostics;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Copies one output descriptor to the host on a dedicated (reused) thread, up to 256 KiB at a time (a frame; the pipe
/// holds 1 MiB, so a process that writes faster than the host reads is read in few large pieces). Sending waits for flow-control
/// window, which in turn stops reading, so a slow host throttles the process through its pipe. Ends at end of file,
/// on a terminal hang-up (EIO), when the host is gone, or once the main process has exited and the descriptor has
/// been silent for the idle time (a background child may hold it open forever).
/// </summary>
internal sealed unsafe class OutputPump
{
    private const int ChunkSize = 256 * 1024;
    // At least half the buffer: a kept piece then holds at most twice its size in memory.
    private const int HandOverBytes = ChunkSize / 2;
    private readonly int _fd;
    private readonly OutputStreamKind _kind;
    private readonly ExecSession _session;
    private readonly ExecLifetime _lifetime;
    private readonly long _idleTicks;
    private readonly CancellationToken _cancellationToken;

    private OutputPump(int fd, OutputStreamKind kind, ExecSession session, ExecLifetime lifetime, TimeSpan idleAfterExit, CancellationToken cancellationToken)
    {
        _fd = fd;
        _kind = kind;
        _session = session;
        _lifetime = lifetime;
        _idleTicks = (long)(idleAfterExit.TotalSeconds * Stopwatch.Frequency);
        _cancellationToken = cancellationToken;
    }

    /// <summary>Starts pumping <paramref name="fd"/> (which the pump now owns and closes); completes when done.</summary>
    public static Task Start(int fd, OutputStreamKind kind, ExecSession session, ExecLifetime lifetime, TimeSpan idleAfterExit, CancellationToken cancellationToken)
    {
        var pump = new OutputPump(fd, kind, session, lifetime, idleAfterExit, cancellationToken);
        return WorkerThreads.Run(() =>
        {
            try
            {
                pump.Run();
            }
            catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException)
            {
                // The host is gone or the stream closed: nobody to send output to.
            }
            catch (Exception ex)
            {
                AgentLog.Error($"{kind} pump failed: {ex.Message}");
            }
            finally
            {
                LibC.Close(fd);
            }
        });
    }

    private void Run()
    {
        // From the pool: most commands print little, and their pumps reuse the buffers of earlier ones. A large read's
        // buffer is handed to the session, which keeps it until the host has stored it (a takeover resends it) and
        // then returns it to the pool, and the next read gets another; a small read is copied there instead, so a
        // trickle of output does not hold a buffer per byte. The buffer never handed over goes back to the pool here.
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            Pump(ref buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Pump(ref byte[] buffer)
    {
        var polls = stackalloc LibC.PollFd[2];
        long idleDeadline = 0;
        while (!_lifetime.Aborted)
        {
            int count;
            int timeout;
            polls[0] = new LibC.PollFd { Fd = _fd, Events = LibC.POLLIN };
            if (!_lifetime.Exited)
            {
                polls[1] = new LibC.PollFd { Fd = _lifetime.WakeFd, Events = LibC.POLLIN };
                count = 2;
                timeout = -1;
            }
            else
            {
                // The wake event stays readable once set, so from here on only the descriptor is watched.
                if (idleDeadline == 0)
                {
                    idleDeadline = Stopwatch.GetTimestamp() + _idleTicks;
                }

                var remaining = idleDeadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    return;
                }

                count = 1;
                timeout = (int)Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency);
            }

            var ready = LibC.Poll(polls, (nuint)count, timeout);
            if (ready < 0 && Errno.Last != Errno.EINTR)
            {
                throw new IOException("poll failed: " + Errno.DescribeLast());
            }

            if (ready <= 0 || polls[0].ReturnedEvents == 0)
            {
                continue;
            }

            nint read;
            fixed (byte* pointer = buffer)
            {
                read = LibC.Read(_fd, pointer, ChunkSize);
            }

            if (read > 0)
            {
                if (read >= HandOverBytes)
                {
                    // The session owns this one from here, even if the write fails halfway, and returns it to the pool
                    // once the host has stored its bytes; the next read gets another (usually one returned so).
                    var full = buffer;
                    buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                    _session.WriteRentedOutputAsync(_kind, full, (int)read, _cancellationToken).GetAwaiter().GetResult();
                }
                else
                {
                    _session.WriteOutputAsync(_kind, buffer.AsMemory(0, (int)read), _cancellationToken).GetAwaiter().GetResult();
                }

                if (idleDeadline != 0)
                {
                    idleDeadline = Stopwatch.GetTimestamp() + _idleTicks;
                }

                continue;
            }

            var errno = read == 0 ? 0 : Errno.Last;
            if (errno is Errno.EAGAIN or Errno.EINTR)
            {
                continue;
            }

            // 0: end of file. EIO: a terminal whose slave side is closed by everyone. Anything else: give up too.
            return;
        }
    }
}
