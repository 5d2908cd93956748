using System.Formats.Tar;
using System.Runtime.Versioning;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;

namespace Cleanroom.Cli.Files;

/// <summary>
/// Writes a local file or tree as a PAX tar for the guest's <c>extract</c>: modes, mtimes and numeric owners kept,
/// symlinks as symlinks (never followed, never descended), children in ordinal name order, a directory before its
/// contents. File data streams from disk; nothing is held whole in memory.
/// </summary>
/// <remarks>
/// Every node is listed, looked at and opened through libc (<see cref="LibC"/>), never .NET's path APIs, which would
/// decode a name that is not valid UTF-8 lossily and then name another file or none. Such a name (or symlink target)
/// is carried exactly in the <see cref="PaxRawNames"/> vendor records.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class LocalTar
{
    /// <summary>
    /// Writes <paramref name="path"/> as <paramref name="name"/> (and, for a directory, everything under it as
    /// <c>name/...</c>); with <paramref name="name"/> null, only a directory's contents, named relative to it.
    /// </summary>
    /// <param name="warn">Told about nodes left out (sockets, FIFOs, devices).</param>
    public static async Task WriteAsync(Stream output, string path, string? name, Action<string> warn, CancellationToken ct)
    {
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        if (name is null)
        {
            await WriteChildrenAsync(writer, path, "", warn, ct);
        }
        else
        {
            await WriteNodeAsync(writer, path, name, warn, ct);
        }
    }

    private static async Task WriteNodeAsync(TarWriter writer, string path, string name, Action<string> warn, CancellationToken ct)
    {
        var status = LibC.GetStatus(path);
        var type = status.Kind switch
        {
            NodeKind.RegularFile => TarEntryType.RegularFile,
            NodeKind.Directory => TarEntryType.Directory,
            NodeKind.Symlink => TarEntryType.SymbolicLink,
            NodeKind.Missing => throw new CpException($"{UntrustedText.Quote(path)} disappeared while it was being copied"),
            _ => (TarEntryType?)null,
        };
        if (type is not { } entryType)
        {
            warn($"skipping {UntrustedText.Quote(path)}: not a file, directory or symlink");
            return;
        }

        // A symlink becomes a symlink entry with its target verbatim (its exact bytes).
        var entry = PaxRawNames.Entry(entryType, name, status.Kind == NodeKind.Symlink ? LibC.ReadLink(path) : null);
        entry.Mode = (UnixFileMode)status.Mode;
        entry.ModificationTime = status.ModificationTime;
        entry.Uid = status.Uid;
        entry.Gid = status.Gid;
        if (status.Kind == NodeKind.RegularFile)
        {
            // O_NOFOLLOW: a symlink swapped in since the lstat is refused, not followed.
            await using var data = new FileStream(LibC.OpenRead(path), FileAccess.Read, 1 << 16);
            entry.DataStream = data;
            await writer.WriteEntryAsync(entry, ct);
            return;
        }

        await writer.WriteEntryAsync(entry, ct);
        if (status.Kind == NodeKind.Directory)
        {
            await WriteChildrenAsync(writer, path, name + "/", warn, ct);
        }
    }

    private static async Task WriteChildrenAsync(TarWriter writer, string directory, string prefix, Action<string> warn, CancellationToken ct)
    {
        foreach (var childName in LibC.ListDirectory(directory).Order(StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            await WriteNodeAsync(writer, string.Concat(directory, "/", childName), prefix + childName, warn, ct);
        }
    }
}
