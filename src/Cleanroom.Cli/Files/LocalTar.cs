using System.Formats.Tar;
using System.Runtime.Versioning;
using Cleanroom.Escaping;

namespace Cleanroom.Cli.Files;

/// <summary>
/// Writes a local file or tree as a PAX tar for the guest's <c>extract</c>: modes, mtimes and numeric owners kept,
/// symlinks as symlinks (never followed, never descended), children in ordinal name order, a directory before its
/// contents. File data streams from disk; nothing is held whole in memory.
/// </summary>
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
        var kind = HostNodes.KindOf(path);
        if (kind == HostNodeKind.Special)
        {
            warn($"skipping {UntrustedText.Quote(path)}: not a file, directory or symlink");
            return;
        }

        // TarWriter reads the node with lstat: a symlink becomes a symlink entry with its target verbatim.
        await writer.WriteEntryAsync(path, name, ct);
        if (kind == HostNodeKind.Directory)
        {
            await WriteChildrenAsync(writer, path, name + "/", warn, ct);
        }
    }

    private static async Task WriteChildrenAsync(TarWriter writer, string directory, string prefix, Action<string> warn, CancellationToken ct)
    {
        foreach (var child in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            var childName = Path.GetFileName(child);
            // .NET decodes file names as UTF-8 with U+FFFD for bytes that are not; such a name no longer names the file.
            if (childName.Contains('\uFFFD', StringComparison.Ordinal))
            {
                throw new CpException($"cannot copy {UntrustedText.Quote(child)}: its name is not valid UTF-8");
            }

            await WriteNodeAsync(writer, child, prefix + childName, warn, ct);
        }
    }
}
