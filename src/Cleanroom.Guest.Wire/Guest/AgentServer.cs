using System.Collections.Concurrent;
using Cleanroom.Guest.Wire.FlowControl;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>How a connection with the host ended.</summary>
public enum SessionEnd
{
    /// <summary>The host closed the connection (or it broke); running processes were cancelled.</summary>
    PeerClosed,

    /// <summary>The host asked the guest to power off.</summary>
    ShutdownRequested,
}

/// <summary>
/// The guest end of a connection: answers the hello, takes over the streams of an earlier connection when the host
/// asks (<see cref="FrameType.Resume"/>), starts a handler task per exec stream, routes stdin, signals and window
/// updates, and sends each process's exit as the last frame of its stream. With a <see cref="Configuration"/> that
/// is still waiting (a guest restored from a template), it refuses commands until a configure request succeeded.
/// </summary>
public sealed class AgentServer
{
    private readonly Stream _stream;
    private readonly IExecHandler _handler;
    private readonly WireLimits _limits;
    private readonly string _software;

    // Stream ids this connection's host used: it may not reuse one.
    private readonly ConcurrentDictionary<uint, byte> _used = new();
    private readonly List<Task> _replies = [];
    private FrameWriter _writer;
    private HelloMessage? _host;

    // Whether the host has said which earlier streams it takes over: only its first frame after the hello may.
    private bool _takeoverSettled;

    public AgentServer(Stream stream, IExecHandler handler, WireLimits limits, string software)
    {
        _stream = stream;
        _handler = handler;
        _limits = limits;
        _software = software;
        _writer = new FrameWriter(stream, 1024, payloadsInPlace: true);
    }

    /// <summary>
    /// The guest's pending configuration, shared by every connection of this guest; null when the guest booted with
    /// its settings and takes no configure request.
    /// </summary>
    public BootConfiguration? Configuration { get; init; }

    /// <summary>
    /// The process streams. The agent's loop gives every connection its one durable table, so processes outlive a
    /// host; by default a connection has its own, and its processes end with it.
    /// </summary>
    public SessionTable Sessions { get; init; } = new(durable: false);

    internal FrameWriter Writer => _writer;

    /// <summary>The largest frame payload the host accepts.</summary>
    internal int MaxFramePayload => _host!.MaxFramePayload;

    /// <summary>Serves the connection until the host closes it or asks for shutdown.</summary>
    public async Task<SessionEnd> RunAsync(CancellationToken cancellationToken)
    {
        var reader = new FrameReader(_stream, _limits);
        var end = SessionEnd.PeerClosed;
        try
        {
            while (true)
            {
                var frame = await reader.ReadAsync(cancellationToken);
                if (frame is null)
                {
                    break;
                }

                if (_host is null)
                {
                    await AnswerHelloAsync(frame, cancellationToken);
                    continue;
                }

                if (frame.Type == FrameType.Hello)
                {
                    // A second hello means a new host took over the byte stream before this side saw the old one
                    // leave (a virtio-serial port gives no reliable signal for a quick reconnect). The old host's
                    // streams are let go as if it had left; then the newcomer is answered as a fresh connection.
                    await LeaveStreamsAsync();
                    _used.Clear();
                    _takeoverSettled = false;
                    await AnswerHelloAsync(frame, cancellationToken);
                    continue;
                }

                if (frame.Type == FrameType.Resume)
                {
                    await TakeOverAsync(frame, cancellationToken);
                    continue;
                }

                if (!_takeoverSettled)
                {
                    // The host takes over nothing: processes left by an earlier host end now.
                    KillOrphans("the next host did not take it over");
                }

                if (frame.Type == FrameType.Shutdown)
                {
                    end = SessionEnd.ShutdownRequested;
                    break;
                }

                if (frame.Type == FrameType.Exec)
                {
                    StartExec(frame, cancellationToken);
                    continue;
                }

                await DispatchAsync(frame, cancellationToken);
            }
        }
        catch (WireProtocolException ex)
        {
            await TrySendErrorAsync(ex.Message);
        }
        finally
        {
            await LeaveStreamsAsync();
        }

        return end;
    }

    internal Task SendFrameAsync(FrameType type, uint streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        _writer.WriteAsync(type, streamId, payload, cancellationToken);

    private async Task AnswerHelloAsync(Frame frame, CancellationToken cancellationToken)
    {
        if (frame.Type != FrameType.Hello || frame.StreamId != 0)
        {
            throw new WireProtocolException($"expected a hello from the host, got a {frame.Type} frame");
        }

        var host = HelloMessage.Decode(frame.Payload.Span);
        var reply = new HelloMessage(HelloMessage.CurrentVersion, host.Nonce, _limits.MaxFramePayload, _limits.InitialWindow, _software);
        await _writer.WriteAsync(FrameType.Hello, 0, reply.Encode(), cancellationToken);
        // The same gate as before: an output frame of the previous host's may still be leaving (a second hello).
        _writer = _writer.ForPeer(host.MaxFramePayload);
        _host = host;
        Configuration?.HostArrived();
    }

    /// <summary>
    /// This connection's host is gone (or replaced). A durable table keeps its streams for the next host; otherwise
    /// they end, and their exits go unreported.
    /// </summary>
    private async Task LeaveStreamsAsync()
    {
        if (Sessions.Durable)
        {
            foreach (var session in Sessions.All)
            {
                session.Detach(this);
            }
        }
        else
        {
            await Sessions.KillAllAsync("the host connection ended");
        }

        await Task.WhenAll(_replies);
        _replies.Clear();
    }

    private void KillOrphans(string reason, HashSet<uint>? keep = null)
    {
        _takeoverSettled = true;
        foreach (var session in Sessions.All.Where(s => keep?.Contains(s.StreamId) != true))
        {
            Sessions.Kill(session, reason);
        }
    }

    /// <summary>
    /// The host takes over streams of an earlier connection: each named one that the guest still has, and whose kept
    /// output covers what the host is missing, is bound to this connection; every other earlier stream ends. The
    /// answer goes out before any replayed output, so the host knows each stream before its bytes arrive.
    /// </summary>
    private async Task TakeOverAsync(Frame frame, CancellationToken cancellationToken)
    {
        if (frame.StreamId != 0)
        {
            throw new WireProtocolException($"resume on stream {frame.StreamId}; it belongs on stream 0");
        }

        if (_takeoverSettled)
        {
            throw new WireProtocolException("resume after other frames; it must be the first frame after the hello");
        }

        var request = ResumeMessage.Decode(frame.Payload.Span, _limits.MaxStreams);
        var answers = new List<ResumedEntry>(request.Entries.Count);
        var links = new List<(ExecSession Session, ExecSession.Link Link)>();
        foreach (var entry in request.Entries)
        {
            _used.TryAdd(entry.StreamId, 0);
            if (!Sessions.TryGet(entry.StreamId, out var session))
            {
                answers.Add(new ResumedEntry(entry.StreamId, false, 0, "the guest has no such process (it was ended, or the guest restarted)"));
                continue;
            }

            var (link, pid, reason) = session.BeginTakeover(this, entry.Delivered, _host!.InitialWindow, _limits.InitialWindow);
            answers.Add(new ResumedEntry(entry.StreamId, link is not null, pid, reason));
            if (link is not null)
            {
                links.Add((session, link));
            }
        }

        KillOrphans("the next host did not take it over", links.Select(l => l.Session.StreamId).ToHashSet());
        await _writer.WriteAsync(FrameType.Resumed, 0, new ResumedMessage(answers).Encode(), cancellationToken);

        // Each replay waits for window the host grants as it stores, which this loop reads: they run beside it.
        foreach (var (session, link) in links)
        {
            Reply(Task.Run(() => session.ReplayAsync(link), CancellationToken.None));
        }
    }

    private void StartExec(Frame frame, CancellationToken agentStopping)
    {
        if (frame.StreamId == 0 || Sessions.Contains(frame.StreamId) || !_used.TryAdd(frame.StreamId, 0))
        {
            throw new WireProtocolException($"exec on stream {frame.StreamId}, which is reserved or already used");
        }

        var request = ExecRequest.Decode(frame.Payload.Span, _limits);
        if (Configuration is { IsConfigured: false })
        {
            // Refused like a command that cannot start: the stream ends with its exit, the connection goes on.
            Reply(SendExitAsync(frame.StreamId, new ExitMessage(126, 0, BootConfiguration.NotConfiguredError)));
            return;
        }

        if (Sessions.Count >= _limits.MaxStreams)
        {
            Reply(SendExitAsync(frame.StreamId, new ExitMessage(126, 0, $"too many concurrent processes (limit {_limits.MaxStreams})")));
            return;
        }

        var session = new ExecSession(frame.StreamId, Sessions.Durable, agentStopping);
        session.Attach(this, _host!.InitialWindow, _limits.InitialWindow);
        Sessions.Add(session);
        session.Completion = Task.Run(
            async () =>
            {
                ExitMessage exit;
                try
                {
                    exit = await _handler.RunAsync(request, session, session.Stopping);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    exit = new ExitMessage(126, 0, "agent failed to run the command: " + ex.Message);
                }

                await session.FinishAsync(exit);
                if (!Sessions.Durable)
                {
                    // Nobody can take this stream over later: its exit needs no release.
                    Sessions.Forget(session);
                }
            },
            CancellationToken.None);
    }

    /// <summary>Tracks a send that runs beside the read loop, so the connection's end waits for it.</summary>
    private void Reply(Task send)
    {
        _replies.RemoveAll(t => t.IsCompleted);
        _replies.Add(send);
    }

    private async Task SendExitAsync(uint streamId, ExitMessage exit)
    {
        try
        {
            await _writer.WriteAsync(FrameType.Exit, streamId, exit.Encode(), CancellationToken.None);
        }
        catch (WireProtocolException)
        {
            // The host is gone; there is no one left to tell.
        }
    }

    private async Task DispatchAsync(Frame frame, CancellationToken cancellationToken)
    {
        // Frames for a stream that already ended are benign races (stdin sent as the process exited): drop them.
        Sessions.TryGet(frame.StreamId, out var session);
        switch (frame.Type)
        {
            case FrameType.Stdin:
                session?.OnStdin(this, frame.Payload);
                break;
            case FrameType.CloseStdin:
                session?.OnStdinClosed();
                break;
            case FrameType.Signal:
                session?.OnControl(new SignalControl(SignalMessage.Decode(frame.Payload.Span).Signal));
                break;
            case FrameType.Resize:
                var resize = ResizeMessage.Decode(frame.Payload.Span);
                session?.OnControl(new ResizeControl(resize.Cols, resize.Rows));
                break;
            case FrameType.WindowUpdate:
                session?.OnWindowUpdate(this, WindowUpdateMessage.Decode(frame.Payload.Span).Increment);
                break;
            case FrameType.Release:
                // The host recorded the exit: the stream and its kept output can go. A release of a running stream
                // or an unknown one changes nothing.
                if (session is { HasExited: true })
                {
                    Sessions.Forget(session);
                }

                break;
            case FrameType.Ping:
                await _writer.WriteAsync(FrameType.Pong, 0, frame.Payload, cancellationToken);
                break;
            case FrameType.Configure:
                await AnswerConfigureAsync(frame, cancellationToken);
                break;
            default:
                throw new WireProtocolException($"unexpected {frame.Type} frame from the host");
        }
    }

    /// <summary>
    /// Runs the configuration here, in the read loop: it takes milliseconds to a few seconds, and nothing else can
    /// happen on a guest that is not configured yet. A refusal is an answer, not a protocol error.
    /// </summary>
    private async Task AnswerConfigureAsync(Frame frame, CancellationToken cancellationToken)
    {
        if (frame.StreamId != 0)
        {
            throw new WireProtocolException($"configure on stream {frame.StreamId}; it belongs on stream 0");
        }

        var message = ConfigureMessage.Decode(frame.Payload.Span);
        var error = Configuration is null ? BootConfiguration.NotWaitingError : Configuration.Apply(message);
        await _writer.WriteAsync(FrameType.Configured, 0, new ConfiguredMessage(error).Encode(), cancellationToken);
    }

    private async Task TrySendErrorAsync(string message)
    {
        try
        {
            await _writer.WriteAsync(FrameType.Error, 0, new ErrorMessage(message).Encode(), CancellationToken.None);
        }
        catch (WireProtocolException)
        {
            // Nothing more to do: the connection is already broken.
        }
    }
}
