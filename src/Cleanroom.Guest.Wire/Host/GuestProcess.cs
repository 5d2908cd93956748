using System.Threading.Channels;
using Cleanroom.Guest.Wire.FlowControl;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Host;

/// <summary>
/// The host's handle on one process running in the guest: its output (flow-controlled: reading grants the guest
/// more window), its stdin, signals, and how it ended.
/// </summary>
public sealed class GuestProcess
{
    private readonly AgentClient _owner;
    private readonly Channel<OutputChunk> _output = Channel.CreateUnbounded<OutputChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<int> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ExitMessage> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ReceiveWindow _receiveWindow;
    private readonly SendWindow _stdinWindow;
    private int _stdinClosed;
    private int _released;

    // The chunk last handed to the reader counts as consumed only when the reader asks for the next one, so the window
    // it frees is granted after the reader stored it: the guest drops output it keeps for a restart on that grant.
    private int _handedOut;

    internal GuestProcess(AgentClient owner, uint streamId, int hostWindow, int guestWindow, bool keepUntilReleased)
    {
        _owner = owner;
        StreamId = streamId;
        _receiveWindow = new ReceiveWindow(hostWindow);
        _stdinWindow = new SendWindow(guestWindow);
        KeepUntilReleased = keepUntilReleased;
    }

    public uint StreamId { get; }

    /// <summary>
    /// The guest keeps this stream's exit (and the output not yet stored) until <see cref="ReleaseAsync"/>: the caller
    /// records the exit first, so a host that dies in between can take the stream over and learn it again.
    /// Otherwise the stream is released as its exit arrives.
    /// </summary>
    public bool KeepUntilReleased { get; }

    /// <summary>Completes with the guest pid once the process started; faults if it never did.</summary>
    public Task<int> Started => _started.Task;

    /// <summary>Completes when the process ended; faults with <see cref="WireProtocolException"/> if the connection failed.</summary>
    public Task<ExitMessage> Exited => _exited.Task;

    /// <summary>The next output chunk, or null once the process exited and all output was read.</summary>
    public async ValueTask<OutputChunk?> ReadOutputAsync(CancellationToken cancellationToken)
    {
        if (_handedOut > 0)
        {
            var grant = _receiveWindow.OnConsumed(_handedOut);
            _handedOut = 0;
            if (grant > 0 && !_exited.Task.IsCompleted)
            {
                await _owner.SendFrameAsync(FrameType.WindowUpdate, StreamId, new WindowUpdateMessage(grant).Encode(), cancellationToken);
            }
        }

        while (await _output.Reader.WaitToReadAsync(cancellationToken))
        {
            if (_output.Reader.TryRead(out var chunk))
            {
                _handedOut = chunk.Data.Length;
                return chunk;
            }
        }

        return null;
    }

    /// <summary>Tells the guest the exit is recorded: it forgets the stream. Harmless twice or on a lost connection.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        try
        {
            await _owner.SendFrameAsync(FrameType.Release, StreamId, ReadOnlyMemory<byte>.Empty, cancellationToken);
        }
        catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException)
        {
            // The guest is gone or stuck; a host that takes the stream over later releases it then.
        }
    }

    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _owner.SendDataAsync(FrameType.Stdin, StreamId, _stdinWindow, data, cancellationToken);

    public Task CloseStdinAsync(CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _stdinClosed, 1) == 0
            ? _owner.SendFrameAsync(FrameType.CloseStdin, StreamId, ReadOnlyMemory<byte>.Empty, cancellationToken)
            : Task.CompletedTask;

    public Task SignalAsync(int signal, CancellationToken cancellationToken) =>
        _owner.SendFrameAsync(FrameType.Signal, StreamId, new SignalMessage(signal).Encode(), cancellationToken);

    public Task ResizeAsync(ushort cols, ushort rows, CancellationToken cancellationToken) =>
        _owner.SendFrameAsync(FrameType.Resize, StreamId, new ResizeMessage(cols, rows).Encode(), cancellationToken);

    /// <summary>A stream taken over from an earlier connection whose process had started already.</summary>
    internal void OnStartedEarlier(int pid) => _started.TrySetResult(pid);

    internal void OnStarted(int pid)
    {
        if (!_started.TrySetResult(pid))
        {
            throw new WireProtocolException($"stream {StreamId}: started reported twice");
        }
    }

    internal void OnOutput(OutputStreamKind kind, ReadOnlyMemory<byte> data)
    {
        _receiveWindow.OnReceived(data.Length);
        _output.Writer.TryWrite(new OutputChunk(kind, data));
    }

    internal void OnWindowUpdate(uint increment) => _stdinWindow.Grant(increment);

    internal void OnExit(ExitMessage exit)
    {
        _started.TrySetException(new InvalidOperationException(exit.Error.Length > 0 ? exit.Error : "the process did not start"));
        _ = _started.Task.Exception; // observed: a process that failed to start is reported through Exited
        _output.Writer.TryComplete();

        // Exited first: a stdin write that fails below is then always seen with the exit already known, so a writer can
        // tell "the tool stopped reading" (drop the rest) from a broken connection. In the other order a writer woken
        // by the failure found no exit yet and failed its whole call (a flaky FileApiTests garbage-archive run).
        _exited.TrySetResult(exit);
        _stdinWindow.Fail(new InvalidOperationException("the process exited"));
    }

    internal void Fail(Exception reason)
    {
        _started.TrySetException(reason);
        _ = _started.Task.Exception;
        _stdinWindow.Fail(reason);
        _output.Writer.TryComplete(reason);
        _exited.TrySetException(reason);
    }
}
