using System.Formats.Tar;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Escaping;
using Grpc.Core;

namespace Cleanroom.Daemon.Files;

/// <summary>
/// File operations on a READY sandbox through the guest agent's tools (stat, archive, extract, remove): the daemon
/// side of the file API, cp and workspace copies. The guest's answers are bounded (stdout budgets per call, stderr
/// by <see cref="GuestTool"/>) and its failures become errors that quote it escaped.
/// </summary>
public sealed class SandboxFiles(SandboxManager sandboxes, DaemonOptions options)
{
    /// <summary>Default and largest content of one <see cref="DownloadAsync"/> (it is returned in one message).</summary>
    public const long DefaultDownloadBytes = 10L << 20;

    public const long MaxDownloadBytes = 16L << 20;

    /// <summary>Longest stat answer read from the guest (one JSON line).</summary>
    private const int MaxStatBytes = 64 << 10;

    /// <summary>Tar headers around one downloaded file (a PAX header can carry a long name).</summary>
    private const int TarOverheadBytes = 1 << 20;

    /// <summary>What <paramref name="path"/> is in the guest, or null when it does not exist.</summary>
    public async Task<GuestPathStat?> StatAsync(string sandboxId, string path, CancellationToken ct)
    {
        GuestPaths.Require(path, "path");
        var output = new MemoryStream();
        var result = await RunAsync(sandboxId, ["stat", "--", path], null, Collect(output, MaxStatBytes, "the stat answer"), ct);
        if (result.ExitCode != 0)
        {
            // A path under a regular file does not exist either (ENOTDIR), as for stat(1).
            return IsMissing(result) || result.Errors.Contains("not a directory", StringComparison.OrdinalIgnoreCase) ? null : throw Failed("stat", path, result);
        }

        return GuestStatParser.Parse(output.GetBuffer().AsSpan(0, (int)output.Length));
    }

    /// <summary>Streams a tar of <paramref name="paths"/> (relative to <paramref name="basePath"/>) to <paramref name="sink"/>, at most <see cref="DaemonOptions.MaxArchiveBytes"/>.</summary>
    public async Task ArchiveAsync(string sandboxId, string basePath, IReadOnlyList<string> paths, IReadOnlyList<string> excludes, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, CancellationToken ct)
    {
        GuestPaths.Require(basePath, "base");
        if (paths.Count == 0)
        {
            throw DaemonException.InvalidArgument("name at least one path to archive");
        }

        List<string> argv = ["archive", "--base", basePath];
        foreach (var exclude in excludes)
        {
            argv.AddRange(["--exclude", exclude]);
        }

        argv.Add("--");
        argv.AddRange(paths.Select(p => p.Length is > 0 and <= GuestPaths.MaxLength && !p.Contains('\0', StringComparison.Ordinal) ? p : throw DaemonException.InvalidArgument($"path {UntrustedText.Quote(p)} is empty, too long or holds a NUL")));
        await RunToolAsync(sandboxId, argv, options.MaxArchiveBytes, sink, ct);
    }

    /// <summary>Runs a tool whose stdout (at most <paramref name="maxBytes"/>) goes to <paramref name="sink"/>; a failure becomes an error.</summary>
    internal async Task RunToolAsync(string sandboxId, IReadOnlyList<string> argv, long maxBytes, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, CancellationToken ct)
    {
        long total = 0;
        var result = await RunAsync(sandboxId, argv, null, async (data, token) =>
        {
            total += data.Length;
            if (total > maxBytes)
            {
                throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.ResourceLimitExceeded, $"the guest's {argv[0]} output grew past {maxBytes} bytes; archive less at a time");
            }

            await sink(data, token);
        }, ct);
        if (result.ExitCode != 0)
        {
            throw IsMissing(result) ? new DaemonException(StatusCode.NotFound, ReasonCode.InvalidArgument, result.Errors) : Failed(argv[0], argv[^1], result);
        }
    }

    /// <summary>
    /// Unpacks the tar <paramref name="archive"/> writes under <paramref name="directory"/>; returns the bytes sent.
    /// <paramref name="ownerOfRoot"/> gives what it creates to the directory's owner (the workspace may be the image
    /// user's, and the tool runs as root).
    /// </summary>
    public async Task<long> ExtractAsync(string sandboxId, string directory, bool whiteouts, bool ownerOfRoot, Func<Stream, CancellationToken, Task> archive, CancellationToken ct)
    {
        GuestPaths.Require(directory, "directory");
        long written = 0;
        var result = await RunAsync(sandboxId, ExtractArgv(directory, whiteouts, ownerOfRoot), async (process, token) =>
        {
            var stdin = new StdinStream(process);
            await archive(stdin, token);
            written = stdin.Written;
        }, null, ct);
        return result.ExitCode == 0 ? written : throw Failed("extract", directory, result);
    }

    /// <summary>The agent's <c>extract</c> tool's argv (docs/guest-tools.md).</summary>
    public static string[] ExtractArgv(string directory, bool whiteouts, bool ownerOfRoot) =>
    [
        "extract",
        .. whiteouts ? ["--whiteouts"] : Array.Empty<string>(),
        .. ownerOfRoot ? ["--owner-of-root"] : Array.Empty<string>(),
        "--",
        directory,
    ];

    /// <summary>Removes <paramref name="path"/>; false when it did not exist and <paramref name="force"/> allowed that.</summary>
    public async Task<bool> RemoveAsync(string sandboxId, string path, bool recursive, bool force, CancellationToken ct)
    {
        GuestPaths.Require(path, "path");
        if (path == "/")
        {
            throw DaemonException.InvalidArgument("the guest's root directory cannot be removed");
        }

        var result = await RunAsync(sandboxId, recursive ? ["remove", "-r", "--", path] : ["remove", "--", path], null, null, ct);
        if (result.ExitCode == 0)
        {
            return true;
        }

        return IsMissing(result) && force ? false
            : IsMissing(result) ? throw new DaemonException(StatusCode.NotFound, ReasonCode.InvalidArgument, result.Errors)
            : throw Failed("remove", path, result);
    }

    /// <summary>One regular file's content (at most <paramref name="maxBytes"/>, refused when larger) and its size.</summary>
    public async Task<byte[]> DownloadAsync(string sandboxId, string path, long maxBytes, CancellationToken ct)
    {
        GuestPaths.Require(path, "path");
        var limit = maxBytes <= 0 ? DefaultDownloadBytes : Math.Min(maxBytes, MaxDownloadBytes);
        var directory = Path.GetDirectoryName(path) ?? "/";
        var tar = new MemoryStream();
        await ArchiveAsync(sandboxId, directory, [Path.GetFileName(path)], [], Collect(tar, limit + TarOverheadBytes, $"{path} (more than {limit} bytes)"), ct);
        tar.Position = 0;
        using var reader = new TarReader(tar);
        var entry = await reader.GetNextEntryAsync(copyData: false, ct);
        if (entry is null || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
        {
            throw DaemonException.InvalidArgument($"{UntrustedText.Quote(path)} is not a regular file");
        }

        if (entry.Length > limit)
        {
            throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.ResourceLimitExceeded, $"{UntrustedText.Quote(path)} has {entry.Length} bytes, more than max_bytes ({limit})");
        }

        var content = new byte[entry.Length];
        if (entry.DataStream is { } data)
        {
            await data.ReadExactlyAsync(content, ct);
        }

        return content;
    }

    /// <summary>Writes one file from <paramref name="content"/> (a host file of the upload), replacing it atomically.</summary>
    public Task<long> UploadAsync(string sandboxId, string path, UnixFileMode mode, FileStream content, CancellationToken ct)
    {
        GuestPaths.Require(path, "path");
        var name = Path.GetFileName(path);
        if (name.Length == 0)
        {
            throw DaemonException.InvalidArgument($"{UntrustedText.Quote(path)} names a directory, not a file");
        }

        return ExtractAsync(sandboxId, Path.GetDirectoryName(path) ?? "/", whiteouts: false, ownerOfRoot: false, async (stdin, token) =>
        {
            await using var writer = new TarWriter(stdin, TarEntryFormat.Pax, leaveOpen: true);
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = mode, ModificationTime = DateTimeOffset.UtcNow, DataStream = content };
            await writer.WriteEntryAsync(entry, token);
        }, ct);
    }

    private async Task<GuestToolResult> RunAsync(
        string sandboxId,
        IReadOnlyList<string> argv,
        Func<Guest.Wire.Host.GuestProcess, CancellationToken, Task>? stdin,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? stdout,
        CancellationToken ct)
    {
        using var hold = sandboxes.Hold(sandboxId);
        return await GuestTool.RunAsync(sandboxes.ReadyAgent(sandboxId), argv, "", stdin, stdout, ct);
    }

    private static Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> Collect(MemoryStream into, long limit, string what) => (data, _) =>
    {
        if (into.Length + data.Length > limit)
        {
            throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.ResourceLimitExceeded, $"{what} is larger than this call allows");
        }

        into.Write(data.Span);
        return ValueTask.CompletedTask;
    };

    private static bool IsMissing(GuestToolResult result) => result.Errors.Contains("no such file or directory", StringComparison.Ordinal);

    private static DaemonException Failed(string tool, string path, GuestToolResult result) =>
        new(StatusCode.FailedPrecondition, ReasonCode.FailedPrecondition,
            $"{tool} {UntrustedText.Quote(path)} failed in the guest (exit {result.ExitCode}): {(result.Errors.Length > 0 ? result.Errors : "no error message")}");
}
