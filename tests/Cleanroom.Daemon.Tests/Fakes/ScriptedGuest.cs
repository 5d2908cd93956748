using System.Collections.Concurrent;
using System.Formats.Tar;
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
/// signal); <c>wait</c> blocks until a signal arrives and dies of it (exit 128+N); <c>exit N</c> exits with N;
/// <c>split OUT ERR N</c> writes OUT and a newline to stdout, then ERR and a newline to stderr, and exits with N;
/// <c>cat</c> copies stdin to stdout; <c>pattern HEAD TOTAL</c> writes TOTAL bytes of stdout where the byte at offset i
/// is <see cref="PatternByte"/>(i), pausing after the first HEAD bytes until stdin closes. Every command that starts
/// is announced on <see cref="Started"/>, so a test can wait for "the guest runs it". Of the agent's file tools
/// (requests with <see cref="ExecRequest.Tool"/>) it has <c>extract</c> and <c>archive</c> of regular files, in
/// <see cref="Files"/> instead of a file system.
/// </summary>
internal sealed class ScriptedGuest : IExecHandler
{
    public const byte FloodByte = (byte)'x';

    /// <summary>The period of <c>pattern</c>'s bytes: a prime, so no chunk size lines up with it and a chunk out of order shows.</summary>
    private const int PatternPeriod = 251;
    private readonly Channel<ExecRequest> _started = Channel.CreateUnbounded<ExecRequest>();

    /// <summary>The guest's regular files by absolute path, as the file tools see them.</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Each command as the guest starts it.</summary>
    public ChannelReader<ExecRequest> Started => _started.Reader;

    public async Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
    {
        await session.ReportStartedAsync(1000 + (int)session.StreamId, cancellationToken);
        _started.Writer.TryWrite(request);
        var args = request.Argv.Skip(1).ToArray();
        if (request.Tool)
        {
            return await RunToolAsync(request.Argv[0], args, session, cancellationToken);
        }

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
            case "split":
                await session.WriteOutputAsync(OutputStreamKind.Stdout, Encoding.UTF8.GetBytes(args[0] + "\n"), cancellationToken);
                await session.WriteOutputAsync(OutputStreamKind.Stderr, Encoding.UTF8.GetBytes(args[1] + "\n"), cancellationToken);
                return new ExitMessage(int.Parse(args[2], CultureInfo.InvariantCulture), 0, "");
            case "pattern":
                return await PatternAsync(session, long.Parse(args[0], CultureInfo.InvariantCulture), long.Parse(args[1], CultureInfo.InvariantCulture), cancellationToken);
            case "cat":
                while (await session.ReadStdinAsync(cancellationToken) is { } input)
                {
                    await session.WriteOutputAsync(OutputStreamKind.Stdout, input, cancellationToken);
                }

                return new ExitMessage(0, 0, "");
            default:
                return new ExitMessage(127, 0, "command not found: " + request.Argv[0]);
        }
    }

    // extract [OPTIONS] -- DIR (tar on stdin) and archive --base DIR -- NAME (tar on stdout), as docs/guest-tools.md says.
    private async Task<ExitMessage> RunToolAsync(string tool, string[] args, ExecSession session, CancellationToken cancellationToken)
    {
        var directory = tool == "extract" ? args[^1] : args[Array.IndexOf(args, "--base") + 1];
        if (tool == "extract")
        {
            var tar = new MemoryStream();
            while (await session.ReadStdinAsync(cancellationToken) is { } chunk)
            {
                tar.Write(chunk.Span);
            }

            tar.Position = 0;
            using var reader = new TarReader(tar);
            while (await reader.GetNextEntryAsync(copyData: true, cancellationToken) is { } entry)
            {
                var content = new MemoryStream();
                if (entry.DataStream is { } data)
                {
                    await data.CopyToAsync(content, cancellationToken);
                }

                Files[Path.Join(directory, entry.Name)] = content.ToArray();
            }

            return new ExitMessage(0, 0, "");
        }

        if (tool != "archive")
        {
            return new ExitMessage(2, 0, "the fake guest has no tool " + tool);
        }

        var name = args[^1];
        if (!Files.TryGetValue(Path.Join(directory, name), out var bytes))
        {
            await session.WriteOutputAsync(OutputStreamKind.Stderr, Encoding.UTF8.GetBytes($"no such file or directory: {Path.Join(directory, name)}\n"), cancellationToken);
            return new ExitMessage(1, 0, "");
        }

        var output = new MemoryStream();
        await using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) }, cancellationToken);
        }

        await session.WriteOutputAsync(OutputStreamKind.Stdout, output.ToArray(), cancellationToken);
        return new ExitMessage(0, 0, "");
    }

    /// <summary>The byte <c>pattern</c> writes at <paramref name="offset"/> of its output.</summary>
    public static byte PatternByte(long offset) => (byte)(offset % PatternPeriod);

    private static async Task<ExitMessage> PatternAsync(ExecSession session, long head, long total, CancellationToken cancellationToken)
    {
        var chunk = new byte[16 * 1024];
        for (long sent = 0; sent < total;)
        {
            if (sent == head)
            {
                // The test attaches its clients (or does whatever it needs mid-output) while the command waits here.
                while (await session.ReadStdinAsync(cancellationToken) is not null)
                {
                }
            }

            var size = (int)Math.Min(chunk.Length, (sent < head ? head : total) - sent);
            for (var i = 0; i < size; i++)
            {
                chunk[i] = PatternByte(sent + i);
            }

            await session.WriteOutputAsync(OutputStreamKind.Stdout, chunk.AsMemory(0, size), cancellationToken);
            sent += size;
        }

        return new ExitMessage(0, 0, "");
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
