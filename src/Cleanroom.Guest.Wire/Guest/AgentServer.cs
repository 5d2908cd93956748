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
/// The guest end of a connection: answers the hello, starts a handler task per exec stream, routes stdin, signals
/// and window updates, and sends each process's exit as the last frame of its stream. With a
/// <see cref="Configuration"/> that is still waiting (a guest restored from a template), it refuses commands until a
/// configure request succeeded.
/// </summary>
public sealed class AgentServer
{
    private readonly Stream _stream;
    private readonly IExecHandler _handler;
    private readonly WireLimits _limits;
    private readonly string _software;
    private readonly ConcurrentDictionary<uint, ExecSession> _sessions = new();
    private readonly ConcurrentDictionary<uint, byte> _finished = new();
    private FrameWriter _writer;
    private HelloMessage? _host;
    private int _generation;

    public AgentServer(Stream stream, IExecHandler handler, WireLimits limits, string software)
    {
        _stream = stream;
        _handler = handler;
        _limits = limits;
        _software = software;
        _writer = new FrameWriter(stream, 1024);
    }

    /// <summary>
    /// The guest's pending configuration, shared by every connection of this guest; null when the guest booted with
    /// its settings and takes no configure request.
    /// </summary>
    public BootConfiguration? Configuration { get; init; }

    /// <summary>Serves the connection until the host closes it or asks for shutdown.</summary>
    public async Task<SessionEnd> RunAsync(CancellationToken cancellationToken)
    {
        var sessionsStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new ConcurrentDictionary<uint, Task>();
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
                    // leave (a virtio-serial port gives no reliable signal for a quick reconnect). End the old
                    // host's processes without reporting to the newcomer, then answer it as a fresh connection.
                    await EndSessionsAsync(sessionsStop, running);
                    sessionsStop.Dispose();
                    sessionsStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    _sessions.Clear();
                    _finished.Clear();
                    await AnswerHelloAsync(frame, cancellationToken);
                    continue;
                }

                if (frame.Type == FrameType.Shutdown)
                {
                    end = SessionEnd.ShutdownRequested;
                    break;
                }

                if (frame.Type == FrameType.Exec)
                {
                    StartExec(frame, running, sessionsStop.Token);
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
            await EndSessionsAsync(sessionsStop, running);
            sessionsStop.Dispose();
        }

        return end;
    }

    internal Task SendFrameAsync(FrameType type, uint streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        _writer.WriteAsync(type, streamId, payload, cancellationToken);

    internal Task SendDataAsync(FrameType type, uint streamId, SendWindow window, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        DataSender.SendAsync(_writer, type, streamId, window, _host!.MaxFramePayload, data, cancellationToken);

    private async Task AnswerHelloAsync(Frame frame, CancellationToken cancellationToken)
    {
        if (frame.Type != FrameType.Hello || frame.StreamId != 0)
        {
            throw new WireProtocolException($"expected a hello from the host, got a {frame.Type} frame");
        }

        var host = HelloMessage.Decode(frame.Payload.Span);
        var reply = new HelloMessage(HelloMessage.CurrentVersion, host.Nonce, _limits.MaxFramePayload, _limits.InitialWindow, _software);
        await _writer.WriteAsync(FrameType.Hello, 0, reply.Encode(), cancellationToken);
        _writer = new FrameWriter(_stream, host.MaxFramePayload);
        _host = host;
    }

    /// <summary>Cancels every process of the current host and waits for their handlers; their exits go unreported.</summary>
    private async Task EndSessionsAsync(CancellationTokenSource sessionsStop, ConcurrentDictionary<uint, Task> running)
    {
        Interlocked.Increment(ref _generation);
        var reason = new WireProtocolException("the host connection ended");
        await sessionsStop.CancelAsync();
        foreach (var session in _sessions.Values)
        {
            session.Close(reason);
        }

        await Task.WhenAll(running.Values);
        running.Clear();
    }

    private void StartExec(Frame frame, ConcurrentDictionary<uint, Task> running, CancellationToken stop)
    {
        if (frame.StreamId == 0 || _sessions.ContainsKey(frame.StreamId) || _finished.ContainsKey(frame.StreamId))
        {
            throw new WireProtocolException($"exec on stream {frame.StreamId}, which is reserved or already used");
        }

        var request = ExecRequest.Decode(frame.Payload.Span, _limits);
        if (Configuration is { IsConfigured: false })
        {
            // Refused like a command that cannot start: the stream ends with its exit, the connection goes on.
            _finished.TryAdd(frame.StreamId, 0);
            running[frame.StreamId] = SendExitAsync(frame.StreamId, new ExitMessage(126, 0, BootConfiguration.NotConfiguredError));
            return;
        }

        var session = new ExecSession(this, frame.StreamId, _limits.InitialWindow, _host!.InitialWindow);
        if (_sessions.Count >= _limits.MaxStreams)
        {
            running[frame.StreamId] = SendExitAsync(session.StreamId, new ExitMessage(126, 0, $"too many concurrent processes (limit {_limits.MaxStreams})"));
            return;
        }

        _sessions[frame.StreamId] = session;
        var generation = Volatile.Read(ref _generation);
        running[frame.StreamId] = Task.Run(
            async () =>
            {
                ExitMessage exit;
                try
                {
                    exit = await _handler.RunAsync(request, session, stop);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    exit = new ExitMessage(126, 0, "agent failed to run the command: " + ex.Message);
                }

                if (generation == Volatile.Read(ref _generation))
                {
                    _sessions.TryRemove(session.StreamId, out _);
                    _finished.TryAdd(session.StreamId, 0);
                    await SendExitAsync(session.StreamId, exit);
                    running.TryRemove(session.StreamId, out _);
                }
            },
            CancellationToken.None);
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
        _sessions.TryGetValue(frame.StreamId, out var session);
        switch (frame.Type)
        {
            case FrameType.Stdin:
                session?.OnStdin(frame.Payload);
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
                session?.OnWindowUpdate(WindowUpdateMessage.Decode(frame.Payload.Span).Increment);
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
