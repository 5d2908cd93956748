using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>A hostile guest driven by the test: it reads the host's frames and writes whatever bytes it likes.</summary>
internal sealed class RawGuestPeer(Stream stream)
{
    private readonly FrameReader _reader = new(stream, WireLimits.Default);

    public Stream Stream => stream;

    public FrameWriter Writer { get; } = new(stream, WireLimits.Default.MaxFramePayload);

    /// <summary>Answers the host's hello correctly (echoing its nonce), announcing its window and largest frame.</summary>
    public async Task AnswerHelloAsync(int window = 256 * 1024, int maxFrame = 64 * 1024)
    {
        var hello = HelloMessage.Decode((await ReadAsync(FrameType.Hello)).Payload.Span);
        var reply = new HelloMessage(HelloMessage.CurrentVersion, hello.Nonce, maxFrame, window, "hostile");
        await Writer.WriteAsync(FrameType.Hello, 0, reply.Encode(), CancellationToken.None);
    }

    /// <summary>The host's next frame, which must be of type <paramref name="expected"/>.</summary>
    public async Task<Frame> ReadAsync(FrameType expected)
    {
        var frame = await _reader.ReadAsync(CancellationToken.None).AsTask().WaitAsync(Waits.Bound)
            ?? throw new InvalidOperationException("the host closed the agent channel");
        Assert.Equal(expected, frame.Type);
        return frame;
    }
}
