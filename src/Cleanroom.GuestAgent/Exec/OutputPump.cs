using System.Buffers;
using System.Diagnostics;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Copies a process's output descriptors (stdout and stderr, or a terminal's one) to the host on one dedicated
/// (reused) thread, up to 256 KiB at a time (a frame; a pipe holds 1 MiB, so a process that writes faster than the
/// host reads is read in few large pieces). One thread for both: every thread a command wakes costs context switches at
/// its start and at its end, dear under TCG (with the stdin pump skipped when there is no input, the guest's switches
/// per `true` went from about 50 to 38; docs/architecture.md). Sending waits for flow-control window, which stdout and
/// stderr share, so waiting for it in one thread holds back nothing a second thread could send; a slow host throttles
/// the process through its pipes. A descriptor ends at end of file, on a terminal hang-up (EIO), or once the main process
/// has exited and that descriptor has been silent for the idle time (a background child may hold it open forever);
/// the pump ends with the last one, or when the host is gone.
/// </summary>
internal sealed unsafe class OutputPump
{
    private const int ChunkSize = 256 * 1024;
    // At least half the buffer: a kept piece then holds at most twice its size in memory.
    private const int HandOverBytes = ChunkSize / 2;
    private readonly Output[] _outputs;
    private readonly ExecSession _session;
    private readonly ExecLifetime _lifetime;
    private readonly long _idleTicks;
    private readonly CancellationToken _cancellationToken;

    private OutputPump(Output[] outputs, ExecSession session, ExecLifetime lifetime, TimeSpan idleAfterExit, CancellationToken cancellationToken)
    {
        _outputs = outputs;
        _session = session;
        _lifetime = lifetime;
        _idleTicks = (long)(idleAfterExit.TotalSeconds * Stopwatch.Frequency);
        _cancellationToken = cancellationToken;
    }

    /// <summary>Starts pumping <paramref name="outputs"/> (whose descriptors the pump now owns and closes); completes when done.</summary>
    public static Task Start(IReadOnlyList<(int Fd, OutputStreamKind Kind)> outputs, ExecSession session, ExecLifetime lifetime, TimeSpan idleAfterExit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var pump = new OutputPump(outputs.Select(o => new Output(o.Fd, o.Kind)).ToArray(), session, lifetime, idleAfterExit, cancellationToken);
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
                AgentLog.Error($"output pump failed: {ex.Message}");
            }
            finally
            {
                foreach (var output in pump._outputs)
                {
                    output.Close();
                }
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
        var polls = stackalloc LibC.PollFd[_outputs.Length + 1];
        var polled = new Output[_outputs.Length];
        while (!_lifetime.Aborted)
        {
            var exited = _lifetime.Exited;
            var count = 0;
            var timeout = -1;
            foreach (var output in _outputs)
            {
                if (output.IsClosed)
                {
                    continue;
                }

                if (exited)
                {
                    // The wake event stays readable once set, so from here on only the descriptors are watched, each
                    // until it has been silent for the idle time.
                    var remaining = output.IdleRemaining(_idleTicks);
                    if (remaining <= 0)
                    {
                        output.Close();
                        continue;
                    }

                    var milliseconds = (int)Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency);
                    timeout = timeout < 0 ? milliseconds : Math.Min(timeout, milliseconds);
                }

                polls[count] = new LibC.PollFd { Fd = output.Fd, Events = LibC.POLLIN };
                polled[count++] = output;
            }

            if (count == 0)
            {
                return;
            }

            var watched = count;
            if (!exited)
            {
                polls[count++] = new LibC.PollFd { Fd = _lifetime.WakeFd, Events = LibC.POLLIN };
            }

            var ready = LibC.Poll(polls, (nuint)count, timeout);
            if (ready < 0 && Errno.Last != Errno.EINTR)
            {
                throw new IOException("poll failed: " + Errno.DescribeLast());
            }

            for (var i = 0; ready > 0 && i < watched; i++)
            {
                if (polls[i].ReturnedEvents != 0 && !ReadOnce(polled[i], ref buffer))
                {
                    polled[i].Close();
                }
            }
        }
    }

    /// <summary>One read of a ready descriptor, sent on; false once it has ended.</summary>
    private bool ReadOnce(Output output, ref byte[] buffer)
    {
        nint read;
        fixed (byte* pointer = buffer)
        {
            read = LibC.Read(output.Fd, pointer, ChunkSize);
        }

        if (read > 0)
        {
            if (read >= HandOverBytes)
            {
                // The session owns this one from here, even if the write fails halfway, and returns it to the pool
                // once the host has stored its bytes; the next read gets another (usually one returned so).
                var full = buffer;
                buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                _session.WriteRentedOutputAsync(output.Kind, full, (int)read, _cancellationToken).GetAwaiter().GetResult();
            }
            else
            {
                _session.WriteOutputAsync(output.Kind, buffer.AsMemory(0, (int)read), _cancellationToken).GetAwaiter().GetResult();
            }

            output.OnData();
            return true;
        }

        // 0: end of file. EIO: a terminal whose slave side is closed by everyone. Anything else: give up too.
        var errno = read == 0 ? 0 : Errno.Last;
        return errno is Errno.EAGAIN or Errno.EINTR;
    }

    /// <summary>One descriptor of the pump and its idle deadline (counted from the main process's exit).</summary>
    private sealed class Output(int fd, OutputStreamKind kind)
    {
        private long _idleDeadline;

        public int Fd { get; private set; } = fd;

        public OutputStreamKind Kind { get; } = kind;

        public bool IsClosed => Fd < 0;

        /// <summary>Ticks left before the descriptor counts as idle; the first call (after the exit) starts the count.</summary>
        public long IdleRemaining(long idleTicks)
        {
            if (_idleDeadline == 0)
            {
                _idleDeadline = Stopwatch.GetTimestamp() + idleTicks;
            }

            return _idleDeadline - Stopwatch.GetTimestamp();
        }

        /// <summary>Data: after the exit, the idle count starts again with the next call of <see cref="IdleRemaining"/>.</summary>
        public void OnData() => _idleDeadline = 0;

        /// <summary>Closed as soon as it ends: a writer still holding the other end then gets EPIPE, not a full pipe.</summary>
        public void Close()
        {
            if (Fd >= 0)
            {
                LibC.Close(Fd);
                Fd = -1;
            }
        }
    }
}
