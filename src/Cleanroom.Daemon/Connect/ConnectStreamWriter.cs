using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>The service's response stream, each message handed to the Connect call to frame and send.</summary>
internal sealed class ConnectStreamWriter<TResponse>(Func<IMessage, Task> write) : IServerStreamWriter<TResponse>
    where TResponse : class
{
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(TResponse message) => write((IMessage)message);

    /// <summary>
    /// The services pass their call's token, which is the Connect call's own (deadline or client gone), and the write
    /// itself observes that token; the interface's default would refuse a cancellable token.
    /// </summary>
    public Task WriteAsync(TResponse message, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return write((IMessage)message);
    }
}
