using System.Threading.Channels;
using Cleanroom.Guest.Wire.FlowControl;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>The guest's side of one process stream: stdin from the host, output to it, control events.</summary>
public sealed class ExecSession
{
    private readonly AgentServer _server;
    private readonly Channel<ReadOnlyMemory<byte>> _stdin = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<ExecControl> _controls = Channel.CreateBounded<ExecControl>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly ReceiveWindow _stdinWindow;
    private readonly SendWindow _outputWindow;

    internal ExecSession(AgentServer server, uint streamId, int guestWindow, int hostWindow)
    {
        _server = server;
        StreamId = streamId;
        _stdinWindow = new ReceiveWindow(guestWindow);
        _outputWindow = new SendWindow(hostWindow);
    }

    public uint StreamId { get; }

    /// <summary>Signals and resizes from the host, in order.</summary>
    public ChannelReader<ExecControl> Controls => _controls.Reader;

    /// <summary>The next chunk of stdin, or null at end of input.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadStdinAsync(CancellationToken cancellationToken)
    {
        while (await _stdin.Reader.WaitToReadAsync(cancellationToken))
        {
            if (_stdin.Reader.TryRead(out var chunk))
            {
                var grant = _stdinWindow.OnConsumed(chunk.Length);
                if (grant > 0)
                {
                    await _server.SendFrameAsync(FrameType.WindowUpdate, StreamId, new WindowUpdateMessage(grant).Encode(), cancellationToken);
                }

                return chunk;
            }
        }

        return null;
    }

    /// <summary>Sends output, waiting for window when the host is behind.</summary>
    public Task WriteOutputAsync(OutputStreamKind kind, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _server.SendDataAsync(kind == OutputStreamKind.Stdout ? FrameType.Stdout : FrameType.Stderr, StreamId, _outputWindow, data, cancellationToken);

    public Task ReportStartedAsync(int pid, CancellationToken cancellationToken) =>
        _server.SendFrameAsync(FrameType.Started, StreamId, new StartedMessage(pid).Encode(), cancellationToken);

    internal void OnStdin(ReadOnlyMemory<byte> data)
    {
        _stdinWindow.OnReceived(data.Length);
        _stdin.Writer.TryWrite(data);
    }

    internal void OnStdinClosed() => _stdin.Writer.TryComplete();

    internal void OnControl(ExecControl control) => _controls.Writer.TryWrite(control);

    internal void OnWindowUpdate(uint increment) => _outputWindow.Grant(increment);

    internal void Close(Exception reason)
    {
        _outputWindow.Fail(reason);
        _stdin.Writer.TryComplete();
        _controls.Writer.TryComplete();
    }
}
