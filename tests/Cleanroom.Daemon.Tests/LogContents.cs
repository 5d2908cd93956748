using System.Text;
using Cleanroom.Daemon.Executions;
using Cleanroom.Guest.Wire;

namespace Cleanroom.Daemon.Tests;

/// <summary>What an execution's output log holds, split by stream, as a client following it would get it.</summary>
internal sealed record LogContents(byte[] Stdout, byte[] Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    public static async Task<LogContents> ReadAsync(OutputLog log)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        await foreach (var chunk in log.ReadAsync(follow: false, CancellationToken.None))
        {
            (chunk.Stream == OutputStreamKind.Stdout ? stdout : stderr).Write(chunk.Data.Span);
        }

        return new LogContents(stdout.ToArray(), stderr.ToArray());
    }
}
