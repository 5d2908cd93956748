using System.Buffers;
using System.Threading.Channels;
using Cleanroom.Guest.Wire.FlowControl;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>
/// The guest's side of one process stream: stdin from the host, output to it, control events, and how it ended.
/// A session is carried by one host connection at a time (its link). A durable session outlives that connection:
/// while no host has it, its output waits (the process blocks on its pipe once that is full), and a host that takes
/// it over gets again the output the old host may not have stored (<see cref="UnacknowledgedOutput"/>), then the rest.
/// </summary>
public sealed class ExecSession : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Channel<ReadOnlyMemory<byte>> _stdin = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<ExecControl> _controls = Channel.CreateBounded<ExecControl>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stop;
    private readonly UnacknowledgedOutput? _unacknowledged;

    // Orders output: taking a piece into the kept output and writing its frame happen together, so the host stores
    // bytes in the order their positions were counted (stdout and stderr come from two threads).
    private readonly SemaphoreSlim _send = new(1, 1);
    private ReceiveWindow _stdinWindow;
    private Link? _link;
    private bool _open;
    private TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _closed;
    private int _pid;
    private ExitMessage? _exit;

    internal ExecSession(uint streamId, bool durable, CancellationToken agentStopping)
    {
        StreamId = streamId;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(agentStopping);
        _unacknowledged = durable ? new UnacknowledgedOutput() : null;
        _stdinWindow = new ReceiveWindow(1024);
    }

    public uint StreamId { get; }

    /// <summary>Signals and resizes from the host, in order.</summary>
    public ChannelReader<ExecControl> Controls => _controls.Reader;

    /// <summary>Cancelled when the process must end: killed by a host, or the agent stops.</summary>
    internal CancellationToken Stopping => _stop.Token;

    /// <summary>The handler running the process; completes once its exit is recorded here.</summary>
    internal Task Completion { get; set; } = Task.CompletedTask;

    internal bool HasExited
    {
        get
        {
            lock (_lock)
            {
                return _exit is not null;
            }
        }
    }

    /// <summary>The host has closed stdin and every chunk of it was read: <see cref="ReadStdinAsync"/> returns null at once.</summary>
    public bool StdinEnded => _stdin.Reader.Completion.IsCompleted;

    /// <summary>The next chunk of stdin, or null at end of input.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadStdinAsync(CancellationToken cancellationToken)
    {
        while (await _stdin.Reader.WaitToReadAsync(cancellationToken))
        {
            if (_stdin.Reader.TryRead(out var chunk))
            {
                Link? link;
                uint grant;
                lock (_lock)
                {
                    grant = _stdinWindow.OnConsumed(chunk.Length);
                    link = _open ? _link : null;
                }

                if (grant > 0 && link is not null)
                {
                    await TrySendAsync(link, FrameType.WindowUpdate, new WindowUpdateMessage(grant).Encode(), cancellationToken);
                }

                return chunk;
            }
        }

        return null;
    }

    /// <summary>
    /// Sends output, waiting for window when the host is behind, and for a host while none has the stream (durable
    /// sessions). Throws <see cref="WireProtocolException"/> once the session is closed. A durable session keeps a
    /// copy of the bytes for a takeover.
    /// </summary>
    public Task WriteOutputAsync(OutputStreamKind kind, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        WriteOutputAsync(kind, data, rented: null, cancellationToken);

    /// <summary>
    /// Sends the first <paramref name="length"/> bytes of <paramref name="rented"/>, an array from
    /// <see cref="ArrayPool{T}.Shared"/> that the caller gives up: a durable session keeps the bytes for a takeover as
    /// they are instead of copying them, and the array returns to the pool once the host has acknowledged them (or,
    /// without a takeover to serve, once they are written). An array given up by a write that fails is left to the
    /// garbage collector.
    /// </summary>
    public Task WriteRentedOutputAsync(OutputStreamKind kind, byte[] rented, int length, CancellationToken cancellationToken) =>
        WriteOutputAsync(kind, rented.AsMemory(0, length), rented, cancellationToken);

    private async Task WriteOutputAsync(OutputStreamKind kind, ReadOnlyMemory<byte> data, byte[]? rented, CancellationToken cancellationToken)
    {
        var type = kind == OutputStreamKind.Stdout ? FrameType.Stdout : FrameType.Stderr;
        while (!data.IsEmpty)
        {
            var link = await WaitOpenAsync(cancellationToken);
            int credit;
            try
            {
                credit = await link.Window.AcquireAsync(Math.Min(data.Length, link.Server.MaxFramePayload), cancellationToken);
            }
            catch (WireProtocolException) when (_unacknowledged is not null && Volatile.Read(ref _closed) is null)
            {
                continue; // that host left; wait for the next
            }

            var piece = data[..credit];

            // The array goes with the last piece cut from it: it is free once that piece is acknowledged or written.
            var lastOfArray = credit == data.Length ? rented : null;
            await _send.WaitAsync(cancellationToken);
            try
            {
                lock (_lock)
                {
                    if (_link != link || !_open)
                    {
                        // Another host took the stream between the credit and here: that credit was the old host's.
                        continue;
                    }

                    if (rented is not null)
                    {
                        _unacknowledged?.Keep(kind, piece, lastOfArray);
                    }
                    else
                    {
                        _unacknowledged?.Add(kind, piece.Span);
                    }
                }

                try
                {
                    await link.Server.SendFrameAsync(type, StreamId, piece, CancellationToken.None);
                }
                catch (Exception ex) when (_unacknowledged is not null && IsLostConnection(ex))
                {
                    // Kept: the host that takes the stream over gets it again.
                }

                if (_unacknowledged is null && lastOfArray is not null)
                {
                    ArrayPool<byte>.Shared.Return(lastOfArray);
                }
            }
            finally
            {
                _send.Release();
            }

            data = data[credit..];
        }
    }

    public async Task ReportStartedAsync(int pid, CancellationToken cancellationToken)
    {
        Link? link;
        lock (_lock)
        {
            _pid = pid;
            link = _open && _link is { StartedSent: false } ? _link : null;
            if (link is not null)
            {
                link.StartedSent = true;
            }
        }

        if (link is not null)
        {
            await SendOrKeepAsync(link, FrameType.Started, new StartedMessage(pid).Encode(), cancellationToken);
        }
    }

    /// <summary>Records how the process ended and tells the host that has the stream, if any.</summary>
    internal async Task FinishAsync(ExitMessage exit)
    {
        lock (_lock)
        {
            _exit = exit;
        }

        await SendExitIfDueAsync();
    }

    /// <summary>A new connection carries the stream from now on (a freshly started process).</summary>
    internal void Attach(AgentServer server, int hostWindow, int guestWindow)
    {
        lock (_lock)
        {
            _stdinWindow = new ReceiveWindow(guestWindow);
            _link = new Link(server, new SendWindow(hostWindow));
            Open();
        }
    }

    /// <summary>
    /// First half of a takeover by a new host holding <paramref name="delivered"/> output bytes: checks that the kept
    /// output covers them, forgets what the host has, and binds the stream to the new connection, closed until
    /// <see cref="ReplayAsync"/> has sent the rest. Returns null and the reason when the stream cannot be taken over.
    /// </summary>
    internal (Link? Link, int Pid, string Reason) BeginTakeover(AgentServer server, long delivered, int hostWindow, int guestWindow)
    {
        lock (_lock)
        {
            if (_unacknowledged is null || _closed is not null)
            {
                return (null, 0, "the process ended with its host's connection");
            }

            if (!_unacknowledged.AcknowledgeTo(delivered))
            {
                return (null, 0, $"the host holds {delivered} output bytes, and the guest kept bytes {_unacknowledged.Acknowledged} to {_unacknowledged.Sent}");
            }

            DetachLocked();
            _stdinWindow = new ReceiveWindow(guestWindow);
            _link = new Link(server, new SendWindow(hostWindow)) { StartedSent = _pid != 0 };
            return (_link, _pid, "");
        }
    }

    /// <summary>
    /// Second half of a takeover: sends the kept output the new host does not hold (through its window), then opens
    /// the stream to new output, then the exit if the process already ended.
    /// </summary>
    internal async Task ReplayAsync(Link link)
    {
        await _send.WaitAsync();
        try
        {
            IReadOnlyList<(OutputStreamKind Kind, ReadOnlyMemory<byte> Data)> kept;
            lock (_lock)
            {
                if (_link != link)
                {
                    return;
                }

                kept = _unacknowledged!.Snapshot();
            }

            foreach (var (kind, data) in kept)
            {
                await DataSender.SendAsync(link.Server.Writer, kind == OutputStreamKind.Stdout ? FrameType.Stdout : FrameType.Stderr, StreamId, link.Window, link.Server.MaxFramePayload, data, CancellationToken.None);
            }

            int pid;
            lock (_lock)
            {
                if (_link != link)
                {
                    return;
                }

                Open();
                pid = link.StartedSent ? 0 : _pid;
                link.StartedSent |= pid != 0;
            }

            if (pid != 0)
            {
                await link.Server.SendFrameAsync(FrameType.Started, StreamId, new StartedMessage(pid).Encode(), CancellationToken.None);
            }
        }
        catch (Exception ex) when (IsLostConnection(ex))
        {
            // The new host left during the replay; the stream waits for the next one.
            return;
        }
        finally
        {
            _send.Release();
        }

        await SendExitIfDueAsync();
    }

    /// <summary>The connection <paramref name="server"/> ended: the stream waits for a host that takes it over.</summary>
    internal void Detach(AgentServer server)
    {
        lock (_lock)
        {
            if (_link?.Server == server)
            {
                DetachLocked();
            }
        }
    }

    /// <summary>Ends the session for good: the process is killed, and waiting senders fail with the reason.</summary>
    internal void Kill(Exception reason)
    {
        lock (_lock)
        {
            _closed ??= reason;
            DetachLocked();
            _opened.TrySetResult();
        }

        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Its handler finished and the table let it go already.
        }

        _stdin.Writer.TryComplete();
        _controls.Writer.TryComplete();
    }

    internal void OnStdin(AgentServer server, ReadOnlyMemory<byte> data)
    {
        lock (_lock)
        {
            if (_link?.Server != server)
            {
                return;
            }

            _stdinWindow.OnReceived(data.Length);
        }

        _stdin.Writer.TryWrite(data);
    }

    internal void OnStdinClosed() => _stdin.Writer.TryComplete();

    internal void OnControl(ExecControl control) => _controls.Writer.TryWrite(control);

    internal void OnWindowUpdate(AgentServer server, uint increment)
    {
        lock (_lock)
        {
            if (_link?.Server != server)
            {
                return;
            }

            _link.Window.Grant(increment);

            // The host grants window only for output it has stored: that output need not be kept any longer.
            _unacknowledged?.Acknowledge(increment);
        }
    }

    public void Dispose()
    {
        // The send lock is not disposed: a replay or an exit still holding it releases it after the session ended (it
        // never allocates a wait handle, so there is nothing to free).
        _stop.Dispose();
    }

    private async Task SendExitIfDueAsync()
    {
        Link? link;
        ExitMessage? exit;
        lock (_lock)
        {
            exit = _exit;
            link = _open && exit is not null && _link is { ExitSent: false } ? _link : null;
            if (link is not null)
            {
                link.ExitSent = true;
            }
        }

        if (link is not null)
        {
            await SendOrKeepAsync(link, FrameType.Exit, exit!.Encode(), CancellationToken.None);
        }
    }

    private async Task<Link> WaitOpenAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task opened;
            lock (_lock)
            {
                if (_closed is { } closed)
                {
                    throw new WireProtocolException("stream closed: " + closed.Message, closed);
                }

                if (_open && _link is not null)
                {
                    return _link;
                }

                opened = _opened.Task;
            }

            await opened.WaitAsync(cancellationToken);
        }
    }

    private async Task SendOrKeepAsync(Link link, FrameType type, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            await link.Server.SendFrameAsync(type, StreamId, payload, cancellationToken);
        }
        catch (Exception ex) when (_unacknowledged is not null && IsLostConnection(ex))
        {
            // The host left; whoever takes the stream over learns it from the resume.
        }
    }

    private async Task TrySendAsync(Link link, FrameType type, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            await link.Server.SendFrameAsync(type, StreamId, payload, cancellationToken);
        }
        catch (Exception ex) when (IsLostConnection(ex))
        {
            // The host left: a window update is meaningless to the next one, which starts with a fresh window.
        }
    }

    // A connection that ends fails a write with a protocol error, or (a port abandoned mid-write) a cancellation
    // that is not the caller's: every send here that can meet it passes no token of its own, or only one that
    // ends the stream anyway.
    private static bool IsLostConnection(Exception ex) => ex is WireProtocolException or OperationCanceledException or IOException;

    private void Open()
    {
        _open = true;
        _opened.TrySetResult();
    }

    private void DetachLocked()
    {
        if (_link is null)
        {
            return;
        }

        _link.Window.Fail(_closed ?? new WireProtocolException("the host connection ended"));
        _link = null;
        _open = false;
        if (_opened.Task.IsCompleted && _closed is null)
        {
            _opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>The connection carrying the stream, with the stream's window on it.</summary>
    internal sealed class Link(AgentServer server, SendWindow window)
    {
        public AgentServer Server { get; } = server;

        public SendWindow Window { get; } = window;

        public bool StartedSent { get; set; }

        public bool ExitSent { get; set; }
    }
}
