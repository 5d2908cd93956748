using Cleanroom.Client;
using Grpc.Core;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// A Ctrl-C that resets the call's stream mid-read surfaces from Grpc.Net.Client as "Error reading next message"
/// with an aborted read as its cause; the CLI must report that as an interruption (exit 130), not as a daemon error.
/// </summary>
public sealed class CallCancellationTests
{
    [Fact]
    public void A_stream_aborted_mid_read_is_a_cancellation()
    {
        var aborted = new RpcException(new Status(StatusCode.Unavailable, "Error reading next message. IOException: The request was aborted.", new IOException("The request was aborted.")));
        Assert.True(CallCancellation.IsCancellation(aborted));
        Assert.True(CallCancellation.IsCancellation(new RpcException(new Status(StatusCode.Cancelled, "cancelled"))));
        Assert.True(CallCancellation.IsCancellation(new TaskCanceledException()));
    }

    [Fact]
    public void A_daemon_error_is_not_a_cancellation()
    {
        Assert.False(CallCancellation.IsCancellation(new RpcException(new Status(StatusCode.NotFound, "manifest unknown"))));
        Assert.False(CallCancellation.IsCancellation(new RpcException(new Status(StatusCode.Unavailable, "no socket", new InvalidOperationException()))));
        Assert.False(CallCancellation.IsCancellation(new InvalidOperationException()));
    }
}
