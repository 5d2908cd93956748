using System.Formats.Tar;
using Cleanroom.Api.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.IntegrationTests.Files;

/// <summary>
/// The file RPCs against a real guest booted from the built-in busybox image: they work without tar or a shell in
/// the image (the agent's own tools do the work), keep modes and symlinks, and refuse what exceeds their bounds.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class FileApiTests(DaemonFixture daemon)
{
    [Fact]
    public async Task Upload_stat_download_and_remove_round_trip_a_file()
    {
        var id = daemon.SharedSandboxId;
        var content = new byte[3 << 20];
        new Random(7).NextBytes(content);
        var path = $"/tmp/files-{Guid.NewGuid():N}/nested/a.bin";

        using (var upload = daemon.Sandboxes.UploadSandboxFile())
        {
            await upload.RequestStream.WriteAsync(new UploadSandboxFileRequest { SandboxId = id, Path = path, Mode = 0x1ED });
            for (var at = 0; at < content.Length; at += 1 << 20)
            {
                await upload.RequestStream.WriteAsync(new UploadSandboxFileRequest { Data = ByteString.CopyFrom(content, at, 1 << 20) });
            }

            await upload.RequestStream.CompleteAsync();
            Assert.Equal(content.Length, (await upload).SizeBytes);
        }

        var stat = (await daemon.Sandboxes.StatSandboxPathAsync(new StatSandboxPathRequest { SandboxId = id, Path = path })).Stat;
        var downloaded = await daemon.Sandboxes.DownloadSandboxFileAsync(new DownloadSandboxFileRequest { SandboxId = id, Path = path });
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.DownloadSandboxFileAsync(new DownloadSandboxFileRequest { SandboxId = id, Path = path, MaxBytes = 1000 }));
        var removed = await daemon.Sandboxes.RemoveSandboxPathAsync(new RemoveSandboxPathRequest { SandboxId = id, Path = path });
        var gone = (await daemon.Sandboxes.StatSandboxPathAsync(new StatSandboxPathRequest { SandboxId = id, Path = path })).Stat;
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.RemoveSandboxPathAsync(new RemoveSandboxPathRequest { SandboxId = id, Path = path }));
        var forced = await daemon.Sandboxes.RemoveSandboxPathAsync(new RemoveSandboxPathRequest { SandboxId = id, Path = path, Force = true });

        Assert.Equal("file", stat.Type);
        Assert.Equal(0x1EDu, stat.Mode);
        Assert.Equal(content.Length, stat.SizeBytes);
        Assert.Equal(content, downloaded.Data.ToByteArray());
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);
        Assert.True(removed.Removed);
        Assert.Null(gone);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.False(forced.Removed);
    }

    [Fact]
    public async Task Extract_then_archive_keeps_directories_modes_and_symlinks()
    {
        var id = daemon.SharedSandboxId;
        var directory = $"/tmp/tree-{Guid.NewGuid():N}";
        var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "d") { Mode = (UnixFileMode)0x1C0 });
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "d/run.sh") { Mode = (UnixFileMode)0x1ED, DataStream = new MemoryStream("#!/bin/sh\n"u8.ToArray()) });
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "d/link") { LinkName = "run.sh", Mode = (UnixFileMode)0x1FF });
        }

        using (var extract = daemon.Sandboxes.ExtractSandboxArchive())
        {
            await extract.RequestStream.WriteAsync(new ExtractSandboxArchiveRequest { SandboxId = id, Directory = directory, Data = ByteString.CopyFrom(tar.ToArray()) });
            await extract.RequestStream.CompleteAsync();
            await extract;
        }

        using var archive = daemon.Sandboxes.ArchiveSandboxPaths(new ArchiveSandboxPathsRequest { SandboxId = id, Base = directory, Paths = { "d" } });
        var received = new MemoryStream();
        while (await archive.ResponseStream.MoveNext(CancellationToken.None))
        {
            archive.ResponseStream.Current.Data.WriteTo(received);
        }

        received.Position = 0;
        var entries = new List<(string Name, TarEntryType Type, int Mode, string Link)>();
        using (var reader = new TarReader(received))
        {
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                entries.Add((entry.Name.TrimEnd('/'), entry.EntryType, (int)entry.Mode, entry.LinkName));
            }
        }

        await daemon.Sandboxes.RemoveSandboxPathAsync(new RemoveSandboxPathRequest { SandboxId = id, Path = directory, Recursive = true });
        Assert.Equal(
            [("d", TarEntryType.Directory, 0x1C0, ""), ("d/link", TarEntryType.SymbolicLink, 0x1FF, "run.sh"), ("d/run.sh", TarEntryType.RegularFile, 0x1ED, "")],
            entries);
    }

    [Fact]
    public async Task A_garbage_archive_bigger_than_the_window_fails_clearly_instead_of_hanging()
    {
        // The tool gives up on the first block; the rest (far more than the guest's stdin window) must not wedge the call.
        var garbage = new byte[8 << 20];
        new Random(3).NextBytes(garbage);
        using var extract = daemon.Sandboxes.ExtractSandboxArchive();
        await extract.RequestStream.WriteAsync(new ExtractSandboxArchiveRequest { SandboxId = daemon.SharedSandboxId, Directory = $"/tmp/garbage-{Guid.NewGuid():N}" });
        for (var at = 0; at < garbage.Length; at += 1 << 20)
        {
            await extract.RequestStream.WriteAsync(new ExtractSandboxArchiveRequest { Data = ByteString.CopyFrom(garbage, at, 1 << 20) });
        }

        await extract.RequestStream.CompleteAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await extract);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("extract", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relative_paths_and_unknown_sandboxes_are_refused()
    {
        var relative = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.StatSandboxPathAsync(new StatSandboxPathRequest { SandboxId = daemon.SharedSandboxId, Path = "etc/passwd" }));
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.StatSandboxPathAsync(new StatSandboxPathRequest { SandboxId = "01kr7p9ksmfa7rmyypyqw2w8r0", Path = "/etc" }));
        var root = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.RemoveSandboxPathAsync(new RemoveSandboxPathRequest { SandboxId = daemon.SharedSandboxId, Path = "/", Recursive = true }));

        Assert.Equal(StatusCode.InvalidArgument, relative.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, root.StatusCode);
    }
}
