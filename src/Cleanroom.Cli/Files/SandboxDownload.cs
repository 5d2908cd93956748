using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Runtime.Versioning;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;
using Cleanroom.Workspaces.Transfer;
using Grpc.Core;

namespace Cleanroom.Cli.Files;

/// <summary>
/// <c>cleanroom cp ID:SRC DST</c>: asks the daemon for a tar of SRC and either writes it to stdout (<c>-</c>) or
/// unpacks it with <see cref="SandboxArchive"/>'s confinement into a staging directory next to where it belongs,
/// checks that it holds exactly what was asked for, and moves it into place (<see cref="Placement"/>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SandboxDownload(DaemonConnection connection, CliContext context, TransferLimits limits)
{
    /// <summary>Unpacked-but-unread bytes the pipe holds before the download waits for the unpacker.</summary>
    private const int PipeBytes = 4 << 20;

    public async Task RunAsync(string sandboxId, GuestPath source, string destination, CancellationToken ct)
    {
        var shown = $"{sandboxId}:{source.Path}";
        var stat = (await connection.Sandboxes.StatSandboxPathAsync(new StatSandboxPathRequest { SandboxId = sandboxId, Path = source.Path }, cancellationToken: ct)).Stat
            ?? throw new CpException($"{shown}: no such file or directory in the sandbox");
        var isDirectory = stat.Type == "directory";
        var contents = source.Contents || source.Path == "/";
        if ((contents || source.TrailingSlash) && !isDirectory)
        {
            throw new CpException($"{shown} is not a directory");
        }

        if (stat.Type is not ("file" or "directory" or "symlink"))
        {
            throw new CpException($"{shown} is not a file, directory or symlink");
        }

        // Base = the parent and path = the name gives entries "NAME", "NAME/..."; path = base gives the contents only.
        var request = new ArchiveSandboxPathsRequest { SandboxId = sandboxId, Base = contents ? source.Path : source.Parent };
        request.Paths.Add(contents ? source.Path : source.Name);
        using var call = connection.Sandboxes.ArchiveSandboxPaths(request, cancellationToken: ct);
        if (destination == "-")
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
            {
                await context.Stdout.WriteAsync(message.Data.Memory, ct);
            }

            await context.Stdout.FlushAsync(ct);
            return;
        }

        var (target, staging) = Locate(destination, isDirectory, contents, source.Name);
        try
        {
            await ExtractAsync(call, staging, ct);
            var copy = contents ? staging : CheckTopEntry(staging, source.Name, stat.Type);
            Placement.Move(copy, target, ct);
        }
        finally
        {
            // libc, not Directory.Delete: what the sandbox sent may have names that are not UTF-8.
            LibC.RemoveTree(staging);
        }
    }

    /// <summary>
    /// Where the copy goes (docker cp rules) and a fresh staging path on the same file system: next to the target,
    /// or inside the destination when contents are merged into it.
    /// </summary>
    private (string Target, string Staging) Locate(string destination, bool sourceIsDirectory, bool contents, string name)
    {
        var trailing = destination.EndsWith('/') || destination.EndsWith("/.", StringComparison.Ordinal);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination, context.WorkingDirectory));
        var stagingName = $".cleanroom-cp-{Guid.NewGuid():N}";
        switch (HostNodes.KindOf(full))
        {
            case HostNodeKind.Symlink:
                throw new CpException($"{UntrustedText.Quote(destination)} is a symlink; name the file or directory it points to");
            case HostNodeKind.Directory when contents:
                return (full, Path.Join(full, stagingName));
            case HostNodeKind.Directory:
                return (Path.Join(full, name), Path.Join(full, stagingName));
            case HostNodeKind.Missing:
                if (trailing && !sourceIsDirectory)
                {
                    throw new CpException($"directory {UntrustedText.Quote(destination)} does not exist");
                }

                var parent = Path.GetDirectoryName(full) ?? "/";
                if (HostNodes.KindOf(parent) != HostNodeKind.Directory)
                {
                    throw new CpException($"{UntrustedText.Quote(destination)}: its parent directory does not exist");
                }

                return (full, Path.Join(parent, stagingName));
            default:
                if (sourceIsDirectory)
                {
                    throw new CpException($"cannot copy a directory onto the file {UntrustedText.Quote(destination)}");
                }

                if (trailing)
                {
                    throw new CpException($"{UntrustedText.Quote(destination)} is not a directory");
                }

                return (full, Path.Join(Path.GetDirectoryName(full) ?? "/", stagingName));
        }
    }

    /// <summary>
    /// Feeds the streamed tar through a pipe into <see cref="SandboxArchive.Extract"/> (synchronous, on the thread
    /// pool), so no more than the pipe's bound is ever held in memory. A failed stream wins over what the unpacker
    /// made of the truncated archive; the unpacker leaves nothing behind either way.
    /// </summary>
    private async Task ExtractAsync(AsyncServerStreamingCall<ArchiveSandboxPathsResponse> call, string staging, CancellationToken ct)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2, useSynchronizationContext: false));
        var owner = HostNodes.CurrentOwner();
        var unpack = Task.Run(() =>
        {
            using var tar = pipe.Reader.AsStream();
            return SandboxArchive.Extract(tar, staging, limits, owner, ct);
        }, CancellationToken.None);
        Exception? transfer = null;
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
            {
                if ((await pipe.Writer.WriteAsync(message.Data.Memory, ct)).IsCompleted)
                {
                    break; // the unpacker stopped reading: its outcome says why
                }
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            transfer = ex;
        }

        await pipe.Writer.CompleteAsync(transfer is null ? null : new IOException("the archive stream from the daemon ended early", transfer));
        try
        {
            await unpack;
        }
        catch when (transfer is not null)
        {
            // Reported below.
        }

        if (transfer is not null)
        {
            ExceptionDispatchInfo.Throw(transfer);
        }
    }

    /// <summary>
    /// The guest chose what the archive holds: it must be exactly the one entry asked for, of the type stat reported,
    /// or nothing is copied. Returns the staged copy.
    /// </summary>
    private static string CheckTopEntry(string staging, string name, string type)
    {
        foreach (var entry in LibC.ListDirectory(staging))
        {
            if (entry != name)
            {
                throw new CpException($"the archive from the sandbox was refused: it holds {UntrustedText.Quote(entry)}, not only the requested {UntrustedText.Quote(name)}");
            }
        }

        var copy = Path.Join(staging, name);
        var kind = HostNodes.KindOf(copy);
        var expected = type switch
        {
            "directory" => HostNodeKind.Directory,
            "symlink" => HostNodeKind.Symlink,
            _ => HostNodeKind.RegularFile,
        };
        if (kind == HostNodeKind.Missing)
        {
            throw new CpException($"the archive from the sandbox was refused: it does not hold {UntrustedText.Quote(name)}");
        }

        return kind == expected ? copy : throw new CpException($"the archive from the sandbox was refused: {UntrustedText.Quote(name)} is not the {type} the sandbox reported");
    }
}
