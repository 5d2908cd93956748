using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Feeds the host's stdin chunks to the child on a dedicated (reused) thread. End of input closes the pipe; on a terminal,
/// where closing our side would hang up the child, it types end-of-file (^D) instead. If the child stops reading
/// (EPIPE) the remaining input is consumed and dropped, so the host never blocks on a window that will not open.
/// </summary>
internal sealed unsafe class StdinPump
{
    private const byte EndOfFile = 0x04;
    private readonly int _fd;
    private readonly bool _terminal;
    private readonly ExecSession _session;
    private readonly ExecLifetime _lifetime;
    private readonly CancellationToken _stop;
    private byte _lastByte = (byte)'\n';

    private StdinPump(int fd, bool terminal, ExecSession session, ExecLifetime lifetime, CancellationToken stop)
    {
        _fd = fd;
        _terminal = terminal;
        _session = session;
        _lifetime = lifetime;
        _stop = stop;
    }

    /// <summary>Starts the pump; it owns <paramref name="fd"/>. <paramref name="stop"/> ends it (after the process exited).</summary>
    public static Task Start(int fd, bool terminal, ExecSession session, ExecLifetime lifetime, CancellationToken stop)
    {
        if (!terminal && session.StdinEnded)
        {
            // No input (an exec without stdin closes it with the request): the pipe's end is all there is to do, and a
            // thread woken for it would cost the command two context switches at its start and two at its end.
            LibC.Close(fd);
            return Task.CompletedTask;
        }

        var pump = new StdinPump(fd, terminal, session, lifetime, stop);
        return WorkerThreads.Run(() =>
        {
            try
            {
                pump.Run();
            }
            catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException)
            {
                // The exec is over or the host is gone.
            }
            catch (Exception ex)
            {
                AgentLog.Error("stdin pump failed: " + ex.Message);
            }
            finally
            {
                LibC.Close(fd);
            }
        });
    }

    private void Run()
    {
        var accepting = true;
        while (true)
        {
            var chunk = _session.ReadStdinAsync(_stop).AsTask().GetAwaiter().GetResult();
            if (chunk is null)
            {
                if (accepting && _terminal)
                {
                    // In canonical mode a ^D after a partial line only flushes it; a second one is the end of file.
                    var eof = stackalloc byte[] { EndOfFile, EndOfFile };
                    WriteAll(new ReadOnlySpan<byte>(eof, _lastByte == (byte)'\n' ? 1 : 2));
                }

                return;
            }

            if (accepting && !chunk.Value.IsEmpty)
            {
                accepting = WriteAll(chunk.Value.Span);
                _lastByte = chunk.Value.Span[^1];
            }
        }
    }

    /// <summary>False when the child no longer takes input (pipe closed, or the process is gone).</summary>
    private bool WriteAll(ReadOnlySpan<byte> data)
    {
        var polls = stackalloc LibC.PollFd[2];
        fixed (byte* start = data)
        {
            var offset = 0;
            while (offset < data.Length)
            {
                var written = LibC.Write(_fd, start + offset, data.Length - offset);
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
                    return false;
                }

                polls[0] = new LibC.PollFd { Fd = _fd, Events = LibC.POLLOUT };
                polls[1] = new LibC.PollFd { Fd = _lifetime.WakeFd, Events = LibC.POLLIN };
                if (LibC.Poll(polls, 2, -1) > 0 && polls[1].ReturnedEvents != 0)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
