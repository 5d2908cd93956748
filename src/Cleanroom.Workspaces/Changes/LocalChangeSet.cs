using System.Formats.Tar;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// A working tree's changes against a sandbox's commit (<see cref="LocalChanges.FindAsync"/>): what the CLI's dirty
/// warning counts, and what <c>--copy-in</c> streams into the sandbox as a PAX tar in OCI whiteout form.
/// </summary>
public sealed class LocalChangeSet
{
    private const UnixFileMode RegularMode = (UnixFileMode)0x1A4; // 0644
    private const UnixFileMode ExecutableMode = (UnixFileMode)0x1ED; // 0755, also for directories
    private const UnixFileMode SymlinkMode = (UnixFileMode)0x1FF;

    private readonly string _root;
    private readonly IReadOnlyList<LocalFile> _present;
    private readonly LocalChangeOptions _options;

    internal LocalChangeSet(
        string root, string commit, IReadOnlyList<LocalFile> present, IReadOnlyList<string> deleted, IReadOnlyList<SkippedPath> skipped, LocalChangeOptions options)
    {
        _root = root;
        Commit = commit;
        _present = present;
        Deleted = deleted;
        Skipped = skipped;
        _options = options;
        Bytes = present.Sum(f => f.Bytes);
    }

    /// <summary>The commit the changes are relative to.</summary>
    public string Commit { get; }

    /// <summary>Files and symlinks that are new or differ from the commit (content, mode or type), sorted.</summary>
    public IReadOnlyList<string> Changed => [.. _present.Select(f => f.Path)];

    /// <summary>Paths the commit has and the working tree does not, sorted.</summary>
    public IReadOnlyList<string> Deleted { get; }

    /// <summary>Changed paths that cannot be copied in (submodules, nested repositories, sockets, FIFOs).</summary>
    public IReadOnlyList<SkippedPath> Skipped { get; }

    /// <summary>Paths that differ from the commit, skipped ones included: the number the dirty warning shows.</summary>
    public int DifferingPaths => _present.Count + Deleted.Count + Skipped.Count;

    /// <summary>Bytes of file content a copy-in sends.</summary>
    public long Bytes { get; }

    /// <summary>The CLI's one-line warning when the tree is dirty and nothing is copied in, or null when it is clean.</summary>
    public string? DirtyWarning => DifferingPaths == 0 ? null
        : $"{DifferingPaths} {(DifferingPaths == 1 ? "file differs" : "files differ")} from HEAD; use --copy-in to include them";

    /// <summary>
    /// Writes the changes to <paramref name="output"/> as a PAX tar in OCI layer form and returns what the sandbox
    /// starts with at each path. Deletions come first (an empty <c>dir/.wh.NAME</c>), so a path that changed from a
    /// file to a directory or back is cleared before it is written; then every parent directory of a changed file
    /// (0755); then the files (0644 or 0755 as git sees the executable bit, with their mtimes) and symlinks (as
    /// symlinks). Each file is read once, streamed and hashed on the way; none is held in memory. A name or symlink
    /// target that is not valid UTF-8 travels exactly in the <see cref="PaxRawNames"/> vendor records.
    /// </summary>
    /// <exception cref="WorkspaceException">TooLarge when the changes exceed <see cref="LocalChangeOptions"/>.</exception>
    public async Task<BaseManifest> WriteTarAsync(Stream output, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        EnsureWithinLimits();
        var algorithm = GitBlob.AlgorithmOf(Commit);
        var paths = new Dictionary<string, BaseEntry>(StringComparer.Ordinal);
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var path in Deleted)
        {
            var slash = path.LastIndexOf('/');
            var name = slash < 0 ? Whiteout.Prefix + path : string.Concat(path.AsSpan(0, slash + 1), Whiteout.Prefix, path.AsSpan(slash + 1));
            var whiteout = PaxRawNames.Entry(TarEntryType.RegularFile, name);
            whiteout.Mode = RegularMode;
            whiteout.ModificationTime = DateTimeOffset.UnixEpoch;
            await writer.WriteEntryAsync(whiteout, ct);
            paths[path] = BaseEntry.Deleted;
        }

        foreach (var directory in ParentDirectories())
        {
            var entry = PaxRawNames.Entry(TarEntryType.Directory, directory + "/");
            entry.Mode = ExecutableMode;
            entry.ModificationTime = LibC.GetStatus(HostPath(directory)).ModificationTime;
            await writer.WriteEntryAsync(entry, ct);
        }

        foreach (var file in _present)
        {
            ct.ThrowIfCancellationRequested();
            paths[file.Path] = file.IsSymlink ? await WriteSymlinkAsync(writer, file, algorithm, ct) : await WriteFileAsync(writer, file, algorithm, ct);
        }

        return new BaseManifest(Commit, paths);
    }

    /// <summary>Throws <see cref="WorkspaceException"/> (TooLarge) when a copy-in would exceed the options.</summary>
    public void EnsureWithinLimits()
    {
        var files = _present.Count + Deleted.Count;
        if (files > _options.MaxFiles || Bytes > _options.MaxBytes)
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.TooLarge,
                $"{files:N0} changed files ({Bytes:N0} bytes) are more than --copy-in takes ({_options.MaxFiles:N0} files, {_options.MaxBytes:N0} bytes); commit them or raise the limits.");
        }
    }

    private async Task<BaseEntry> WriteFileAsync(TarWriter writer, LocalFile file, System.Security.Cryptography.HashAlgorithmName algorithm, CancellationToken ct)
    {
        var host = HostPath(file.Path);
        var status = LibC.GetStatus(host);
        var executable = (status.Mode & GitBlob.UserExecute) != 0;
        using var hash = GitBlob.Start(algorithm, file.Bytes);
        // Opened through libc, never .NET's path APIs: the name need not be UTF-8 (see FileNameBytes).
        await using var data = new HashingReadStream(
            new FileStream(LibC.OpenRead(host), FileAccess.Read, 1 << 16), file.Bytes, hash, UntrustedText.Escape(file.Path));
        var entry = PaxRawNames.Entry(TarEntryType.RegularFile, file.Path);
        entry.Mode = executable ? ExecutableMode : RegularMode;
        entry.ModificationTime = status.ModificationTime;
        entry.DataStream = data;
        await writer.WriteEntryAsync(entry, ct);
        return new BaseEntry(executable ? GitBlob.ExecutableMode : GitBlob.RegularMode, GitBlob.Finish(hash));
    }

    private async Task<BaseEntry> WriteSymlinkAsync(TarWriter writer, LocalFile file, System.Security.Cryptography.HashAlgorithmName algorithm, CancellationToken ct)
    {
        var target = LibC.ReadLink(HostPath(file.Path));
        var entry = PaxRawNames.Entry(TarEntryType.SymbolicLink, file.Path, target);
        entry.Mode = SymlinkMode;
        entry.ModificationTime = DateTimeOffset.UnixEpoch;
        await writer.WriteEntryAsync(entry, ct);
        return new BaseEntry(GitBlob.SymlinkMode, GitBlob.Of(algorithm, FileNameBytes.Encode(target)));
    }

    private string HostPath(string relative) => string.Concat(_root, "/", relative);

    /// <summary>Every directory above a changed file, parents before children.</summary>
    private SortedSet<string> ParentDirectories()
    {
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in _present)
        {
            for (var slash = file.Path.LastIndexOf('/'); slash > 0; slash = file.Path.LastIndexOf('/', slash - 1))
            {
                if (!directories.Add(file.Path[..slash]))
                {
                    break;
                }
            }
        }

        return directories;
    }
}
