using System.Formats.Tar;
using Cleanroom.Escaping;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// What a sandbox changed in its workspace against the commit it was checked out at (<c>cleanroom workspace diff</c>),
/// from the guest's changes tar (OCI layer form) and one listing of the commit's tree in any repository that has it.
/// Nothing is written: entries are hashed as they stream by (git blob ids), so a file the guest rewrote with the same
/// content is no change. The tar is hostile: names are checked and the entry and byte budgets of
/// <see cref="TransferLimits"/> apply.
/// </summary>
public static class WorkspaceDiff
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>The changes, sorted by path.</summary>
    /// <exception cref="WorkspaceException">RejectedArchive for a malformed or oversized tar; NotARepository when git cannot list the commit.</exception>
    public static async Task<IReadOnlyList<WorkspaceChange>> ComputeAsync(Stream changes, string repositoryRoot, string commit, TransferLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(limits);
        var algorithm = GitBlob.AlgorithmOf(commit);
        var written = new Dictionary<string, (string Mode, string Blob, long Size)>(StringComparer.Ordinal);
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        var opaque = new List<string>();
        long entries = 0, bytes = 0;
        try
        {
            using var reader = new TarReader(changes, leaveOpen: true);
            while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                if (++entries > limits.MaxEntries || (bytes += Math.Max(0, entry.Length)) > limits.MaxBytes)
                {
                    throw Rejected($"more than {limits.MaxEntries} entries or {limits.MaxBytes} bytes");
                }

                // The exact name (a vendor record's bytes when it is not UTF-8); a bad record is InvalidDataException.
                var name = Normalize(PaxRawNames.NameOf(entry), limits);
                var slash = name.LastIndexOf('/');
                var (directory, file) = slash < 0 ? ("", name) : (name[..slash], name[(slash + 1)..]);
                if (file == OpaqueMarker)
                {
                    opaque.Add(directory);
                }
                else if (file.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                {
                    deleted.Add(Join(directory, file[WhiteoutPrefix.Length..]));
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    written[name] = ((entry.Mode & UnixFileMode.UserExecute) != 0 ? GitBlob.ExecutableMode : GitBlob.RegularMode, await HashAsync(entry, algorithm, ct), entry.Length);
                }
                else if (entry.EntryType == TarEntryType.SymbolicLink)
                {
                    var target = FileNameBytes.Encode(PaxRawNames.LinkNameOf(entry));
                    written[name] = (GitBlob.SymlinkMode, GitBlob.Of(algorithm, target), target.Length);
                }
                else if (entry.EntryType == TarEntryType.HardLink)
                {
                    // Same content as an earlier entry of this archive.
                    var target = Normalize(PaxRawNames.LinkNameOf(entry), limits);
                    written[name] = written.TryGetValue(target, out var linked) ? linked : throw Rejected($"hard link {UntrustedText.Quote(name)} names {UntrustedText.Quote(target)}, which is not earlier in the archive");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw Rejected(ex.Message);
        }

        // A guest tool that failed halfway still ends its tar well; its failure arrives at the stream's end.
        await Transfer.ArchiveEnd.DrainAsync(changes, "the sandbox's changes", ct);
        var opaqueSet = opaque.ToHashSet(StringComparer.Ordinal);
        var commitEntries = await CommitTree.LookUpAsync(
            repositoryRoot,
            commit,
            path => written.ContainsKey(path) || SelfOrAncestorIn(path, deleted) || AncestorIn(path, opaqueSet),
            TimeSpan.FromMinutes(5),
            ct);
        var result = new List<WorkspaceChange>();
        foreach (var (path, now) in written)
        {
            if (!commitEntries.TryGetValue(path, out var before))
            {
                result.Add(new WorkspaceChange(path, 'A', now.Size));
            }
            else if (before.Blob != now.Blob)
            {
                result.Add(new WorkspaceChange(path, 'M', now.Size));
            }
            else if (before.Mode != now.Mode)
            {
                result.Add(new WorkspaceChange(path, 'T', now.Size));
            }
        }

        // Deleted: whiteouts over committed paths, and committed paths under an opaque directory the guest did not write again.
        foreach (var path in commitEntries.Keys.Where(p => !written.ContainsKey(p)))
        {
            if (SelfOrAncestorIn(path, deleted) || AncestorIn(path, opaqueSet))
            {
                result.Add(new WorkspaceChange(path, 'D', 0));
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return result;
    }

    private static async Task<string> HashAsync(TarEntry entry, System.Security.Cryptography.HashAlgorithmName algorithm, CancellationToken ct)
    {
        using var hash = GitBlob.Start(algorithm, entry.Length);
        if (entry.DataStream is { } data)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await data.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        return GitBlob.Finish(hash);
    }

    private static string Normalize(string name, TransferLimits limits)
    {
        var trimmed = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        trimmed = trimmed.TrimEnd('/');
        var parts = trimmed.Split('/');
        if (trimmed.Length == 0 || trimmed[0] == '/' || parts.Length > limits.MaxPathDepth || parts.Any(p => p is "" or "." or ".." || p.Contains('\0', StringComparison.Ordinal)))
        {
            throw Rejected($"entry name {UntrustedText.Quote(name)} is empty, absolute, too deep or has '.', '..' or empty segments");
        }

        return trimmed;
    }

    /// <summary>True when <paramref name="path"/> or a directory above it is in <paramref name="set"/>.</summary>
    private static bool SelfOrAncestorIn(string path, HashSet<string> set) => set.Contains(path) || AncestorIn(path, set);

    /// <summary>True when a directory above <paramref name="path"/> (the root is "") is in <paramref name="set"/>: one lookup per level.</summary>
    private static bool AncestorIn(string path, HashSet<string> set)
    {
        if (set.Count == 0)
        {
            return false;
        }

        for (var slash = path.LastIndexOf('/'); ; slash = path.LastIndexOf('/', slash - 1))
        {
            if (set.Contains(slash < 0 ? "" : path[..slash]))
            {
                return true;
            }

            if (slash <= 0)
            {
                return false;
            }
        }
    }

    private static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;

    private static WorkspaceException Rejected(string why) =>
        new(WorkspaceErrorKind.RejectedArchive, "the sandbox's changes archive was refused: " + why);
}
