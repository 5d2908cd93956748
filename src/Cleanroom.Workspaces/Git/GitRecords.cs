using System.Buffers;
using System.Diagnostics;
using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Git;

/// <summary>
/// Runs a git command whose output is NUL-terminated records (<c>-z</c>) and hands each record to a callback as raw
/// bytes while git is still printing. <see cref="HostCommand"/> keeps only a tail of the output and decodes it as
/// UTF-8; listings can be hundreds of MB and paths are bytes (not always UTF-8), so they are streamed instead. The
/// callback may throw (a budget exceeded): git is then killed at once.
/// </summary>
internal static class GitRecords
{
    private const int MaxRecordBytes = 64 * 1024;
    private const int StderrTailBytes = 16 * 1024;

    /// <summary>Runs <c>git -C <paramref name="repositoryPath"/> ARGS</c> and calls <paramref name="onRecord"/> per record.</summary>
    /// <param name="what">What the command does, for messages ("Listing commit X").</param>
    /// <exception cref="WorkspaceException">git failed, timed out, or printed a record no path can make.</exception>
    public static async Task ReadAsync(
        string repositoryPath, IReadOnlyList<string> args, Action<ReadOnlySpan<byte>> onRecord, string what, TimeSpan timeout, CancellationToken ct)
    {
        using var process = new Process { StartInfo = StartInfo(repositoryPath, args) };
        ChildSpawn.Start(process);
        process.StandardInput.Close();
        await using var stderr = new StreamCapture(StderrTailBytes);
        stderr.Start(process.StandardError.BaseStream);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await ReadRecordsAsync(process.StandardOutput.BaseStream, onRecord, args[0], deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (Exception ex)
        {
            Stop(process);
            ct.ThrowIfCancellationRequested();
            if (ex is OperationCanceledException)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"{what} timed out after {timeout.TotalSeconds:0} s.", ex);
            }

            throw;
        }

        await stderr.Completion;
        if (process.ExitCode != 0)
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.BuildFailed, $"{what}: `git {args[0]}` failed with exit code {process.ExitCode}: {stderr.PrintableText().Trim()}");
        }
    }

    private static ProcessStartInfo StartInfo(string repositoryPath, IReadOnlyList<string> args)
    {
        var info = HostGit.StartInfo(repositoryPath, args, HostGit.RemovedVariables);
        foreach (var (name, value) in HostGit.CommonVariables)
        {
            info.Environment[name] = value;
        }

        return info;
    }

    private static async Task ReadRecordsAsync(Stream stdout, Action<ReadOnlySpan<byte>> onRecord, string command, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            var filled = 0;
            while (true)
            {
                var read = await stdout.ReadAsync(buffer.AsMemory(filled), ct);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                var start = 0;
                int end;
                while ((end = Array.IndexOf(buffer, (byte)0, start, filled - start)) >= 0)
                {
                    onRecord(buffer.AsSpan(start, end - start));
                    start = end + 1;
                }

                if (filled - start > MaxRecordBytes)
                {
                    throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"`git {command}` printed a record longer than any path can be.");
                }

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
