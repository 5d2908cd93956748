using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// What the daemon sends a client on its socket that reads the output log itself (RunExecution with
/// <c>read_output_log</c>): the file, then its length each time whole records were added, then the exit. The records
/// are written here, in the daemon's format, a record at a time. <c>logged-elsewhere</c> names a file whose inode does
/// not match, as a client in another mount namespace would find, and then waits: the client must go on with
/// StreamExecution, which sends the same output as usual. <c>logged-torn</c> publishes a length inside a record: the
/// client must stop at the whole records before it and go on with StreamExecution from the bytes it printed.
/// <c>logged-short</c> publishes in one length its first record and a second whose bytes the file does not hold (as in
/// a file cut short behind the client's back): the client prints the first, then goes on with StreamExecution from
/// after it, so nothing is printed twice.
/// </summary>
internal static class FakeOutputLog
{
    public static bool Serves(CreateExecutionRequest request) => request.ReadOutputLog && request.Command[0] is "logged" or "logged-elsewhere" or "logged-torn" or "logged-short";

    public static async Task ServeAsync(CreateExecutionRequest request, Execution record, string directory, IServerStreamWriter<ExecutionStreamEvent> stream, CancellationToken cancellationToken)
    {
        // Kept after the call, as the daemon keeps its logs: the client may open it after the last event was sent.
        var path = Path.Combine(directory, record.ExecutionId + ".log");
        await File.WriteAllBytesAsync(path, [], cancellationToken);
        var (device, inode) = await IdentityAsync(path);
        var elsewhere = request.Command[0] == "logged-elsewhere";
        await stream.WriteAsync(Event(record, e => e.OutputLog = new OutputLogFile { Path = path, Device = device, Inode = elsewhere ? inode + 1 : inode }), cancellationToken);
        if (elsewhere)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (request.Command[0] == "logged-short")
        {
            var first = await AppendAsync(path, 1, "o1\n");
            await AppendRecordAsync(path, [2, 0, 0, 0, 3, (byte)'e']);
            await stream.WriteAsync(Event(record, e => e.OutputLogLength = first + 5 + 3), cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        long length = 0;
        foreach (var (kind, text) in new[] { (1, "o1\n"), (2, "e1\n"), (1, "o2\n") })
        {
            length = await AppendAsync(path, kind, text);

            // logged-torn publishes a length that ends inside its second record, which the client must not trust.
            var told = request.Command[0] == "logged-torn" && kind == 2 ? length - 2 : length;
            await stream.WriteAsync(Event(record, e => e.OutputLogLength = told), cancellationToken);
            if (told != length)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }

        await stream.WriteAsync(Event(record, e => e.Exit = new ExecutionExit { ExitCode = 3, Status = ExecutionStatus.Failed }), cancellationToken);
    }

    private static async Task<long> AppendAsync(string path, int kind, string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        var record = new byte[5 + body.Length];
        record[0] = (byte)kind;
        BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(1), (uint)body.Length);
        body.CopyTo(record, 5);
        return await AppendRecordAsync(path, record);
    }

    private static async Task<long> AppendRecordAsync(string path, byte[] record)
    {
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        await file.WriteAsync(record);
        return file.Position;
    }

    /// <summary>The daemon's (device, inode) pair, from stat(1): (major &lt;&lt; 32 | minor, inode).</summary>
    private static async Task<(ulong, ulong)> IdentityAsync(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%Hd %Ld %i", path]) { RedirectStandardOutput = true })!;
        var fields = (await stat.StandardOutput.ReadToEndAsync()).Split(' ', StringSplitOptions.TrimEntries).Select(f => ulong.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        await stat.WaitForExitAsync();
        return ((fields[0] << 32) | fields[1], fields[2]);
    }

    private static ExecutionStreamEvent Event(Execution record, Action<ExecutionStreamEvent> fill)
    {
        var e = new ExecutionStreamEvent { SandboxId = record.SandboxId, ExecutionId = record.ExecutionId, Status = record.Status };
        fill(e);
        return e;
    }
}
