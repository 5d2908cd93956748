using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Runtime.Versioning;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// The fake daemon's stand-in for a guest's file tools (docs/guest-tools.md), minimally: each registered sandbox's
/// file system is a real host directory, with tars made by TarWriter and unpacked by TarReader. A test can also make
/// a sandbox answer every archive request with canned (hostile) bytes. NOT the real guest agent.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class FakeGuestFiles
{
    private const int ChunkBytes = 64 << 10;

    /// <summary>Sandbox id to the host directory that is its "/". Ids are unique within a test run.</summary>
    public static ConcurrentDictionary<string, string> Roots { get; } = new();

    /// <summary>Sandbox id to the tar every ArchiveSandboxPaths of it returns instead of a real one.</summary>
    public static ConcurrentDictionary<string, byte[]> CannedArchives { get; } = new();

    /// <summary>The host path of <paramref name="guestPath"/> in <paramref name="sandboxId"/>'s file system.</summary>
    public static string HostPath(string sandboxId, string guestPath)
    {
        if (!Roots.TryGetValue(sandboxId, out var root))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"unknown sandbox {sandboxId}"));
        }

        if (!guestPath.StartsWith('/'))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{guestPath}' must be an absolute guest path"));
        }

        return Path.TrimEndingDirectorySeparator(Path.Join(root, guestPath));
    }

    /// <summary>lstat of a guest path as the daemon reports it, or null when it does not exist.</summary>
    public static Api.V1.SandboxPathStat? Stat(string sandboxId, string guestPath)
    {
        var host = HostPath(sandboxId, guestPath);
        var info = new FileInfo(host);
        if ((int)info.Attributes == -1)
        {
            return null;
        }

        var type = info.LinkTarget is not null ? "symlink" : info.Attributes.HasFlag(FileAttributes.Directory) ? "directory" : "file";
        return new Api.V1.SandboxPathStat
        {
            Path = guestPath,
            Type = type,
            Mode = type == "symlink" ? 0x1FFu : (uint)File.GetUnixFileMode(host),
            SizeBytes = type == "file" ? info.Length : 0,
            ModifiedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(info.LastWriteTimeUtc),
            LinkTarget = info.LinkTarget ?? "",
        };
    }

    /// <summary>The archive tool: entries relative to the base, a path equal to the base giving its contents only.</summary>
    public static async Task ArchiveAsync(string sandboxId, string basePath, IEnumerable<string> paths, Func<ReadOnlyMemory<byte>, Task> send)
    {
        var tar = new MemoryStream();
        if (CannedArchives.TryGetValue(sandboxId, out var canned))
        {
            tar.Write(canned);
        }
        else
        {
            var hostBase = HostPath(sandboxId, basePath);
            await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
            {
                foreach (var path in paths)
                {
                    var host = path.StartsWith('/') ? HostPath(sandboxId, path) : Path.Join(hostBase, path);
                    if ((int)new FileInfo(host).Attributes == -1)
                    {
                        throw new RpcException(new Status(StatusCode.NotFound, $"no such file or directory: {path}"));
                    }

                    if (host == hostBase)
                    {
                        await WriteChildrenAsync(writer, host, "");
                    }
                    else
                    {
                        await WriteNodeAsync(writer, host, Path.GetRelativePath(hostBase, host));
                    }
                }
            }
        }

        var data = tar.ToArray();
        for (var offset = 0; offset < data.Length; offset += ChunkBytes)
        {
            await send(data.AsMemory(offset, Math.Min(ChunkBytes, data.Length - offset)));
        }
    }

    /// <summary>The extract tool, minimally: files replaced through a temporary name, traversal refused.</summary>
    public static void Extract(string sandboxId, string directory, Stream tar)
    {
        var root = HostPath(sandboxId, directory);
        Directory.CreateDirectory(root);
        var directoryTimes = new List<(string Path, UnixFileMode Mode, DateTimeOffset Time)>();
        using var reader = new TarReader(tar, leaveOpen: true);
        while (reader.GetNextEntry() is { } entry)
        {
            var name = entry.Name.TrimEnd('/');
            if (name.StartsWith('/') || name.Split('/').Contains(".."))
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"extract refused '{name}'"));
            }

            var target = name is "" or "." ? root : Path.Join(root, name);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(target);
                    directoryTimes.Add((target, entry.Mode, entry.ModificationTime));
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    var temporary = Path.Join(Path.GetDirectoryName(target), ".cleanroom-extract-" + Guid.NewGuid().ToString("N"));
                    entry.ExtractToFile(temporary, overwrite: false);
                    File.SetUnixFileMode(temporary, entry.Mode);
                    File.SetLastWriteTimeUtc(temporary, entry.ModificationTime.UtcDateTime);
                    File.Move(temporary, target, overwrite: true);
                    break;
                case TarEntryType.SymbolicLink:
                    File.Delete(target);
                    File.CreateSymbolicLink(target, entry.LinkName);
                    break;
                default:
                    throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the fake guest cannot extract a {entry.EntryType}"));
            }
        }

        directoryTimes.Reverse();
        foreach (var (path, mode, time) in directoryTimes)
        {
            File.SetUnixFileMode(path, mode);
            Directory.SetLastWriteTimeUtc(path, time.UtcDateTime);
        }
    }

    private static async Task WriteNodeAsync(TarWriter writer, string host, string name)
    {
        await writer.WriteEntryAsync(host, name);
        var info = new FileInfo(host);
        if (info.LinkTarget is null && info.Attributes.HasFlag(FileAttributes.Directory))
        {
            await WriteChildrenAsync(writer, host, name + "/");
        }
    }

    private static async Task WriteChildrenAsync(TarWriter writer, string host, string prefix)
    {
        foreach (var child in Directory.EnumerateFileSystemEntries(host).Order(StringComparer.Ordinal))
        {
            await WriteNodeAsync(writer, child, prefix + Path.GetFileName(child));
        }
    }
}
