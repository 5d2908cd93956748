using System.Collections.Concurrent;
using System.Diagnostics;
using Cleanroom.Escaping;
using Cleanroom.Guest.Wire.FlowControl;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Host;

/// <summary>
/// The host end of one connection to a guest agent. Everything read from the guest is treated as hostile: any
/// malformed, oversized, unexpected or flow-control-violating frame ends the connection with a
/// <see cref="WireProtocolException"/>, which faults <see cref="Completion"/> and every running process.
/// </summary>
public sealed class AgentClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly FrameReader _reader;
    private readonly WireLimits _limits;
    private readonly ConcurrentDictionary<uint, GuestProcess> _processes = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _pings = new();
    private readonly TaskCompletionSource<HelloMessage> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    // Tells this connection's hello answer from a stale one; the guest sees it, so it is no secret. Not from
    // RandomNumberGenerator: on Linux that is OpenSSL, which the guest agent (its own host for a warm-up) lacks.
    private readonly ulong _nonce = (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);
    private FrameWriter _writer;
    private TaskCompletionSource<ConfiguredMessage>? _configure;
    private (IReadOnlyList<ResumeEntry> Asked, TaskCompletionSource Answered)? _takeover;
    private readonly Dictionary<uint, GuestProcess> _takenOver = [];
    private readonly Dictionary<uint, string> _notTakenOver = [];
    private Task _readLoop = Task.CompletedTask;
    private uint _lastStreamId;
    private long _lastPing;
    private Exception? _failure;

    private AgentClient(Stream stream, WireLimits limits)
    {
        _stream = stream;
        _limits = limits;
        _reader = new FrameReader(stream, limits);

        // Until the guest's hello says otherwise, only send frames the smallest legal peer accepts.
        _writer = new FrameWriter(stream, 1024);
    }

    /// <summary>The guest's hello (its version, limits and software).</summary>
    public HelloMessage Guest => _hello.Task.Result;

    /// <summary>Completes when the guest closes the connection; faults when it broke the protocol.</summary>
    public Task Completion => _readLoop;

    /// <summary>Why the connection ended, if it failed.</summary>
    public Exception? Failure => _failure;

    /// <summary>Streams of an earlier connection this one took over (see <see cref="ConnectAsync"/>), by stream id.</summary>
    public IReadOnlyDictionary<uint, GuestProcess> TakenOver => _takenOver;

    /// <summary>Streams asked for that the guest did not hand over, with its reason (escaped).</summary>
    public IReadOnlyDictionary<uint, string> NotTakenOver => _notTakenOver;

    /// <summary>
    /// Performs the handshake on <paramref name="stream"/> and starts reading. With <paramref name="takeOver"/>, also
    /// takes over those streams of an earlier connection (a daemon restart): each named stream the guest still has
    /// becomes a process in <see cref="TakenOver"/>, whose output continues after the bytes the entry says the host
    /// holds; every other stream of an earlier connection ends. Without it, they all end.
    /// </summary>
    public static async Task<AgentClient> ConnectAsync(Stream stream, WireLimits limits, TimeSpan helloTimeout, CancellationToken cancellationToken, IReadOnlyList<ResumeEntry>? takeOver = null)
    {
        var client = new AgentClient(stream, limits);
        var step = "answer the hello";
        try
        {
            var hello = new HelloMessage(HelloMessage.CurrentVersion, client._nonce, limits.MaxFramePayload, limits.InitialWindow, "cleanroom-host");
            await client._writer.WriteAsync(FrameType.Hello, 0, hello.Encode(), cancellationToken);
            client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(helloTimeout);
            var guest = await client._hello.Task.WaitAsync(helloTimeout, cancellationToken);
            client._writer = client._writer.ForPeer(guest.MaxFramePayload);
            if (takeOver is { Count: > 0 })
            {
                step = "answer the hello and the takeover";
                await client.TakeOverAsync(takeOver, deadline.Token);
            }

            return client;
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await client.DisposeAsync();
            throw new WireProtocolException($"the guest agent did not {step} within {helloTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a process in the guest. Its output must be read (it is flow-controlled). With
    /// <paramref name="keepUntilReleased"/>, the guest keeps its exit until <see cref="GuestProcess.ReleaseAsync"/>.
    /// </summary>
    public async Task<GuestProcess> StartAsync(ExecRequest request, CancellationToken cancellationToken, bool keepUntilReleased = false)
    {
        ThrowIfFailed();
        if (_processes.Count >= _limits.MaxStreams)
        {
            throw new InvalidOperationException($"too many concurrent executions on this sandbox (limit {_limits.MaxStreams})");
        }

        var payload = request.Encode();
        if (payload.Length > Guest.MaxFramePayload)
        {
            throw new ArgumentException($"the command line and environment take {payload.Length} bytes, more than the {Guest.MaxFramePayload} bytes the guest accepts", nameof(request));
        }

        var id = Interlocked.Increment(ref _lastStreamId);
        var process = new GuestProcess(this, id, _limits.InitialWindow, Guest.InitialWindow, keepUntilReleased);
        _processes[id] = process;
        try
        {
            await _writer.WriteAsync(FrameType.Exec, id, payload, cancellationToken);
        }
        catch
        {
            _processes.TryRemove(id, out _);
            throw;
        }

        return process;
    }

    /// <summary>Measures one round trip through the guest agent.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        var id = (ulong)Interlocked.Increment(ref _lastPing);
        var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[id] = pong;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _writer.WriteAsync(FrameType.Ping, 0, new PayloadWriter().WriteUInt64(id).ToArray(), cancellationToken);
            await pong.Task.WaitAsync(cancellationToken);
            return Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            _pings.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Gives a guest restored from a template its sandbox's settings and waits until it applied them. Throws
    /// <see cref="AgentConfigureException"/> when the guest refused or failed (the connection stays usable), and
    /// <see cref="InvalidOperationException"/> while an earlier configure still waits for its answer (also after its
    /// caller gave up: the guest will still answer it).
    /// </summary>
    public async Task ConfigureAsync(ConfigureMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfFailed();
        var payload = message.Encode();
        if (payload.Length > Guest.MaxFramePayload)
        {
            throw new ArgumentException($"the configuration takes {payload.Length} bytes, more than the {Guest.MaxFramePayload} bytes the guest accepts", nameof(message));
        }

        var answer = new TaskCompletionSource<ConfiguredMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _configure, answer, null) is not null)
        {
            throw new InvalidOperationException("a configure request to this guest is still waiting for its answer");
        }

        if (_failure is { } failure)
        {
            // The connection failed between the check above and registering: FailAll may have missed this request.
            Interlocked.CompareExchange(ref _configure, null, answer);
            throw new WireProtocolException("the connection to the guest agent failed: " + failure.Message, failure);
        }

        try
        {
            await _writer.WriteAsync(FrameType.Configure, 0, payload, cancellationToken);
        }
        catch
        {
            Interlocked.CompareExchange(ref _configure, null, answer);
            throw;
        }

        var configured = await answer.Task.WaitAsync(cancellationToken);
        if (configured.Error.Length > 0)
        {
            throw new AgentConfigureException("the guest agent refused the configuration: " + configured.Error);
        }
    }

    /// <summary>Asks the guest to sync its disks and power off. The VM's exit is the confirmation.</summary>
    public Task ShutdownAsync(CancellationToken cancellationToken) =>
        _writer.WriteAsync(FrameType.Shutdown, 0, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _stream.DisposeAsync();
        try
        {
            await _readLoop;
        }
        catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException)
        {
            // Already recorded in Failure and delivered to every process.
        }

        FailAll(new WireProtocolException("the connection to the guest agent was closed"));
        _stop.Dispose();
    }

    internal Task SendFrameAsync(FrameType type, uint streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        return _writer.WriteAsync(type, streamId, payload, cancellationToken);
    }

    internal Task SendDataAsync(FrameType type, uint streamId, SendWindow window, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        return DataSender.SendAsync(_writer, type, streamId, window, Guest.MaxFramePayload, data, cancellationToken);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await _reader.ReadAsync(_stop.Token);
                if (frame is null)
                {
                    throw new WireProtocolException("the guest agent closed the connection");
                }

                Dispatch(frame);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            FailAll(new WireProtocolException("the connection to the guest agent was closed"));
        }
        catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
        {
            FailAll(new WireProtocolException("the connection to the guest agent was closed"));
        }
        catch (WireProtocolException ex)
        {
            FailAll(ex);
            throw;
        }
    }

    private void Dispatch(Frame frame)
    {
        if (!_hello.Task.IsCompleted)
        {
            AcceptHello(frame);
            return;
        }

        switch (frame.Type)
        {
            case FrameType.Stdout:
                Process(frame).OnOutput(OutputStreamKind.Stdout, frame.Payload);
                break;
            case FrameType.Stderr:
                Process(frame).OnOutput(OutputStreamKind.Stderr, frame.Payload);
                break;
            case FrameType.Started:
                Process(frame).OnStarted(StartedMessage.Decode(frame.Payload.Span).Pid);
                break;
            case FrameType.Exit:
                // The guest's words are escaped where they enter the host, so no log line or CLI field can be forged.
                var decoded = ExitMessage.Decode(frame.Payload.Span);
                var exit = decoded with { Error = UntrustedText.Escape(decoded.Error) };
                var process = Process(frame);
                _processes.TryRemove(frame.StreamId, out _);
                process.OnExit(exit);
                if (!process.KeepUntilReleased)
                {
                    _ = process.ReleaseAsync(CancellationToken.None);
                }

                break;
            case FrameType.Resumed:
                RequireControlStream(frame);
                AcceptTakeover(frame);
                break;
            case FrameType.WindowUpdate:
                var update = WindowUpdateMessage.Decode(frame.Payload.Span);
                if (frame.StreamId != 0 && _processes.TryGetValue(frame.StreamId, out var target))
                {
                    target.OnWindowUpdate(update.Increment);
                }

                // An update for a stream that just ended is a benign race; it carries nothing to act on.
                break;
            case FrameType.Pong:
                RequireControlStream(frame);
                var reader = new PayloadReader(frame.Payload.Span, "pong");
                var id = reader.ReadUInt64();
                reader.EnsureEnd();
                if (_pings.TryGetValue(id, out var pong))
                {
                    pong.TrySetResult();
                }

                break;
            case FrameType.Configured:
                RequireControlStream(frame);
                var configured = ConfiguredMessage.Decode(frame.Payload.Span);
                var waiting = Interlocked.Exchange(ref _configure, null)
                    ?? throw new WireProtocolException("Configured frame from the guest, but no configure request was waiting");

                // Escaped where it enters the host, like every guest string.
                waiting.TrySetResult(configured with { Error = UntrustedText.Escape(configured.Error, ConfiguredMessage.MaxErrorBytes) });
                break;
            case FrameType.Error:
                throw new WireProtocolException("the guest agent reported an error: " + UntrustedText.Escape(ErrorMessage.Decode(frame.Payload.Span).Message));
            default:
                throw new WireProtocolException($"unexpected {frame.Type} frame from the guest");
        }
    }

    private async Task TakeOverAsync(IReadOnlyList<ResumeEntry> streams, CancellationToken cancellationToken)
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _takeover = (streams, answered);
        await _writer.WriteAsync(FrameType.Resume, 0, new ResumeMessage(streams).Encode(), cancellationToken);
        await answered.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs in the read loop, so every stream taken over is known before its replayed output (which follows the answer
    /// on the wire) is dispatched. The answer must name exactly the streams asked for, in order.
    /// </summary>
    private void AcceptTakeover(Frame frame)
    {
        if (_takeover is not { } takeover || takeover.Answered.Task.IsCompleted)
        {
            throw new WireProtocolException("Resumed frame from the guest, but no resume request was waiting");
        }

        var answer = ResumedMessage.Decode(frame.Payload.Span, takeover.Asked.Count);
        if (answer.Entries.Count != takeover.Asked.Count || answer.Entries.Where((e, i) => e.StreamId != takeover.Asked[i].StreamId).Any())
        {
            throw new WireProtocolException("the guest's resume answer does not name the streams asked for");
        }

        foreach (var entry in answer.Entries)
        {
            _lastStreamId = Math.Max(_lastStreamId, entry.StreamId);
            if (!entry.Found)
            {
                _notTakenOver[entry.StreamId] = UntrustedText.Escape(entry.Reason, ResumedEntry.MaxReasonBytes);
                continue;
            }

            var process = new GuestProcess(this, entry.StreamId, _limits.InitialWindow, Guest.InitialWindow, keepUntilReleased: true);
            if (entry.Pid > 0)
            {
                process.OnStartedEarlier(entry.Pid);
            }

            _processes[entry.StreamId] = process;
            _takenOver[entry.StreamId] = process;
        }

        takeover.Answered.TrySetResult();
    }

    private void AcceptHello(Frame frame)
    {
        if (frame.Type != FrameType.Hello || frame.StreamId != 0)
        {
            // A well-formed frame the guest wrote for a previous connection can still be in transit (a virtio-serial
            // port carries no connection boundary). It is not ours: skip it. Garbage still fails in the reader, and
            // a guest that never says hello still runs into the hello timeout.
            return;
        }

        var hello = HelloMessage.Decode(frame.Payload.Span);
        if (hello.Version != HelloMessage.CurrentVersion)
        {
            throw new WireProtocolException($"the guest agent speaks protocol version {hello.Version}; this host speaks {HelloMessage.CurrentVersion} (rebuild the guest agent)");
        }

        if (hello.Nonce != _nonce)
        {
            throw new WireProtocolException("the guest's hello does not echo this connection's nonce");
        }

        _hello.TrySetResult(hello with { Software = UntrustedText.Escape(hello.Software, 128) });
    }

    private GuestProcess Process(Frame frame) =>
        frame.StreamId != 0 && _processes.TryGetValue(frame.StreamId, out var process)
            ? process
            : throw new WireProtocolException($"{frame.Type} frame for stream {frame.StreamId}, which is not a running process");

    private static void RequireControlStream(Frame frame)
    {
        if (frame.StreamId != 0)
        {
            throw new WireProtocolException($"{frame.Type} frame on stream {frame.StreamId}; it belongs on stream 0");
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw new WireProtocolException("the connection to the guest agent failed: " + _failure.Message, _failure);
        }
    }

    private void FailAll(Exception reason)
    {
        Interlocked.CompareExchange(ref _failure, reason, null);
        _hello.TrySetException(reason);
        _ = _hello.Task.Exception;
        foreach (var pair in _processes)
        {
            if (_processes.TryRemove(pair.Key, out var process))
            {
                process.Fail(reason);
            }
        }

        foreach (var ping in _pings.Values)
        {
            ping.TrySetException(reason);
        }

        _takeover?.Answered.TrySetException(reason);
        _ = _takeover?.Answered.Task.Exception;
        if (Interlocked.Exchange(ref _configure, null) is { } configure)
        {
            configure.TrySetException(reason);
            _ = configure.Task.Exception;
        }
    }
}
