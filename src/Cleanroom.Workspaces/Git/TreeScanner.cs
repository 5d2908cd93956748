using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Git;

/// <summary>
/// Counts a commit's tree with <c>git ls-tree -r -t -l -z</c>, streaming its output instead of holding it (two million
/// entries print hundreds of MB), and stops git as soon as a budget is exceeded, so a huge repository is refused in
/// the time it takes to list the budget's worth of it.
/// </summary>
internal static class TreeScanner
{
    private const int MaxRecordBytes = 64 * 1024;
    private const int StderrTailBytes = 16 * 1024;

    /// <summary>Scans <paramref name="commit"/>; throws <see cref="WorkspaceException"/> (TooLarge) past a budget.</summary>
    public static async Task<TreeSummary> ScanAsync(
        string repositoryPath, string commit, long maxBytes, long maxEntries, TimeSpan timeout, CancellationToken ct)
    {
        using var process = new Process { StartInfo = StartInfo(repositoryPath, commit) };
        ChildSpawn.Start(process);
        process.StandardInput.Close();
        await using var stderr = new StreamCapture(StderrTailBytes);
        stderr.Start(process.StandardError.BaseStream);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var counter = new Counter(maxBytes, maxEntries);
        try
        {
            await ReadRecordsAsync(process.StandardOutput.BaseStream, counter, deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is WorkspaceException or OperationCanceledException)
        {
            Stop(process);
            ct.ThrowIfCancellationRequested();
            if (ex is OperationCanceledException)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"Listing commit {commit} timed out after {timeout.TotalSeconds:0} s.", ex);
            }

            throw;
        }

        await stderr.Completion;
        if (process.ExitCode != 0)
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.BuildFailed, $"`git ls-tree` of {commit} failed with exit code {process.ExitCode}: {stderr.PrintableText().Trim()}");
        }

        return new TreeSummary(counter.Entries, counter.Bytes, counter.Submodules);
    }

    private static ProcessStartInfo StartInfo(string repositoryPath, string commit)
    {
        var info = new ProcessStartInfo("git")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-C", repositoryPath, "ls-tree", "-r", "-t", "-l", "-z", "--full-tree", commit })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in HostGit.RemovedVariables)
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in HostGit.CommonVariables)
        {
            info.Environment[name] = value;
        }

        return info;
    }

    private static async Task ReadRecordsAsync(Stream stdout, Counter counter, CancellationToken ct)
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
                    counter.Add(buffer.AsSpan(start, end - start));
                    start = end + 1;
                }

                if (filled - start > MaxRecordBytes)
                {
                    throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` printed a record longer than any path can be.");
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

    /// <summary>Parses <c>MODE SP TYPE SP OID SP+ SIZE TAB PATH</c> records and enforces the budgets as it goes.</summary>
    private sealed class Counter(long maxBytes, long maxEntries)
    {
        public long Entries { get; private set; }

        public long Bytes { get; private set; }

        public List<string> Submodules { get; } = [];

        public void Add(ReadOnlySpan<byte> record)
        {
            var tab = record.IndexOf((byte)'\t');
            if (tab < 0)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` printed a record without a path.");
            }

            var fields = Encoding.ASCII.GetString(record[..tab]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 4)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` printed an unexpected record.");
            }

            Entries++;
            if (fields[1] == "blob" && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                Bytes += size;
            }
            else if (fields[1] == "commit")
            {
                Submodules.Add(Encoding.UTF8.GetString(record[(tab + 1)..]));
            }

            if (Entries > maxEntries)
            {
                throw new WorkspaceException(
                    WorkspaceErrorKind.TooLarge,
                    $"The commit's tree has more than {maxEntries:N0} entries, the workspace limit; raise the limit or run without the repository.");
            }

            if (Bytes > maxBytes)
            {
                throw new WorkspaceException(
                    WorkspaceErrorKind.TooLarge,
                    $"The commit's tree holds more than {FormatBytes(maxBytes)} of files, the workspace limit; raise the limit or run without the repository.");
            }
        }

        private static string FormatBytes(long bytes) =>
            bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.#} GiB" : $"{bytes / (double)(1L << 20):0.#} MiB";
    }
}
