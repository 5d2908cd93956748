using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>
/// The "programs" of the fake guest, run by the real <see cref="AgentServer"/> so the daemon speaks the real protocol:
/// <c>echo ARGS</c> writes its arguments and a newline; <c>flood N</c> writes N bytes of stdout (stopping at a
/// signal); <c>wait</c> blocks until a signal arrives and dies of it (exit 128+N); <c>exit N</c> exits with N.
/// Every command that starts is announced on <see cref="Started"/>, so a test can wait for "the guest runs it".
/// </summary>
internal sealed class ScriptedGuest : IExecHandler
{
    public const byte FloodByte = (byte)'x';
    private readonly Channel<ExecRequest> _started = Channel.CreateUnbounded<ExecRequest>();

    /// <summary>Each command as the guest starts it.</summary>
    public ChannelReader<ExecRequest> Started => _started.Reader;

    public async Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
    {
        await session.ReportStartedAsync(1000 + (int)session.StreamId, cancellationToken);
        _started.Writer.TryWrite(request);
        var args = request.Argv.Skip(1).ToArray();
        switch (request.Argv[0])
        {
            case "echo":
                await session.WriteOutputAsync(OutputStreamKind.Stdout, Encoding.UTF8.GetBytes(string.Join(' ', args) + "\n"), cancellationToken);
                return new ExitMessage(0, 0, "");
            case "flood":
                return await FloodAsync(session, long.Parse(args[0], CultureInfo.InvariantCulture), cancellationToken);
            case "wait":
                var control = await session.Controls.ReadAsync(cancellationToken);
                return new ExitMessage(0, ((SignalControl)control).Signal, "");
            case "exit":
                return new ExitMessage(int.Parse(args[0], CultureInfo.InvariantCulture), 0, "");
            default:
                return new ExitMessage(127, 0, "command not found: " + request.Argv[0]);
        }
    }

    private static async Task<ExitMessage> FloodAsync(ExecSession session, long total, CancellationToken cancellationToken)
    {
        var chunk = new byte[16 * 1024];
        Array.Fill(chunk, FloodByte);
        for (long sent = 0; sent < total; sent += chunk.Length)
        {
            // A killed process stops writing, as a real one would.
            if (session.Controls.TryRead(out var control) && control is SignalControl signal)
            {
                return new ExitMessage(0, signal.Signal, "");
            }

            await session.WriteOutputAsync(OutputStreamKind.Stdout, chunk.AsMemory(0, (int)Math.Min(chunk.Length, total - sent)), cancellationToken);
        }

        return new ExitMessage(0, 0, "");
    }
}
