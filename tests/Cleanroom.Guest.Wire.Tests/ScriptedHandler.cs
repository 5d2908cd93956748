using System.Buffers;
using System.Globalization;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>
/// A guest-side handler with a few built-in "commands", so the protocol can be exercised without spawning processes:
/// <c>cat</c> echoes stdin to stdout; <c>emit N</c> writes N bytes to stdout and N/2 to stderr from one reused buffer;
/// <c>emit-handed-over N</c> does the same handing each chunk's buffer over, as the agent's output pump does; <c>exit C</c>;
/// <c>wait</c> blocks until a signal arrives and exits with it.
/// </summary>
internal sealed class ScriptedHandler : IExecHandler
{
    public static byte PatternByte(long index) => (byte)((index * 31) + (index >> 11));

    public async Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
    {
        await session.ReportStartedAsync(4242, cancellationToken);
        switch (request.Argv[0])
        {
            case "cat":
                while (await session.ReadStdinAsync(cancellationToken) is { } chunk)
                {
                    await session.WriteOutputAsync(OutputStreamKind.Stdout, chunk, cancellationToken);
                }

                return new ExitMessage(0, 0, "");
            case "emit" or "emit-handed-over":
                var total = long.Parse(request.Argv[1], CultureInfo.InvariantCulture);
                var handOver = request.Argv[0] == "emit-handed-over";
                await EmitAsync(session, OutputStreamKind.Stdout, total, handOver, cancellationToken);
                await EmitAsync(session, OutputStreamKind.Stderr, total / 2, handOver, cancellationToken);
                return new ExitMessage(0, 0, "");
            case "exit":
                return new ExitMessage(int.Parse(request.Argv[1], CultureInfo.InvariantCulture), 0, "");
            case "wait":
                var control = await session.Controls.ReadAsync(cancellationToken);
                return new ExitMessage(0, ((SignalControl)control).Signal, "");
            default:
                return new ExitMessage(127, 0, "command not found: " + request.Argv[0]);
        }
    }

    private static async Task EmitAsync(ExecSession session, OutputStreamKind kind, long total, bool handOver, CancellationToken cancellationToken)
    {
        const int ChunkSize = 50_000;
        var buffer = new byte[ChunkSize];
        for (long sent = 0; sent < total;)
        {
            if (handOver)
            {
                // As the pump does: a pooled array, filled, then given up; arrays the session returned come back
                // here and are overwritten, so a session that returned one too early resends the wrong bytes.
                buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            }

            var n = (int)Math.Min(ChunkSize, total - sent);
            for (var i = 0; i < n; i++)
            {
                buffer[i] = PatternByte(sent + i);
            }

            if (handOver)
            {
                await session.WriteRentedOutputAsync(kind, buffer, n, cancellationToken);
            }
            else
            {
                await session.WriteOutputAsync(kind, buffer.AsMemory(0, n), cancellationToken);
            }

            sent += n;
        }
    }
}
