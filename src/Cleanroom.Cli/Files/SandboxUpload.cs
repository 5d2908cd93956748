using System.Runtime.Versioning;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Escaping;
using Grpc.Core;

namespace Cleanroom.Cli.Files;

/// <summary>
/// <c>cleanroom cp SRC ID:DST</c>: decides from a stat of DST where the guest's <c>extract</c> unpacks and what the
/// top entry is called (docker cp rules), then streams a tar of SRC (or stdin's tar, as it is) into
/// ExtractSandboxArchive. The guest replaces files atomically and refuses traversal.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SandboxUpload(DaemonConnection connection, CliContext context)
{
    public async Task RunAsync(string source, string sandboxId, GuestPath destination, CancellationToken ct)
    {
        var shown = $"{sandboxId}:{destination.Path}";
        var stat = await StatAsync(sandboxId, destination.Path, ct);
        if (source == "-")
        {
            if (stat?.Type != "directory")
            {
                throw new CpException($"{shown} must be an existing directory in the sandbox to unpack a tar from stdin");
            }

            await SendAsync(sandboxId, destination.Path, output => CopyStdinAsync(output, ct), ct);
            return;
        }

        var contents = source == "." || source.EndsWith("/.", StringComparison.Ordinal);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source, context.WorkingDirectory));
        var kind = HostNodes.KindOf(full);
        if (kind == HostNodeKind.Missing)
        {
            throw new CpException($"{UntrustedText.Quote(source)}: no such file or directory");
        }

        contents |= full == "/";
        var isDirectory = kind == HostNodeKind.Directory;
        if ((contents || source.EndsWith('/')) && !isDirectory)
        {
            throw new CpException($"{UntrustedText.Quote(source)} is not a directory");
        }

        if (kind == HostNodeKind.Special)
        {
            throw new CpException($"{UntrustedText.Quote(source)} is not a file, directory or symlink");
        }

        string directory;
        string? name;
        switch (stat?.Type)
        {
            case "directory":
                (directory, name) = (destination.Path, contents ? null : Path.GetFileName(full));
                if (name is not null)
                {
                    await RefuseTypeClashAsync(sandboxId, destination.Path == "/" ? "/" + name : $"{destination.Path}/{name}", isDirectory, ct);
                }

                break;
            case null:
                if (destination.TrailingSlash && !isDirectory)
                {
                    throw new CpException($"directory {shown} does not exist in the sandbox");
                }

                if ((await StatAsync(sandboxId, destination.Parent, ct))?.Type != "directory")
                {
                    throw new CpException($"{shown}: its parent directory does not exist in the sandbox");
                }

                // Contents go into DST itself (extract creates it); a file or tree is renamed to DST's name.
                (directory, name) = contents ? (destination.Path, null) : (destination.Parent, destination.Name);
                break;
            case "symlink":
                throw new CpException($"{shown} is a symlink in the sandbox (to {UntrustedText.Quote(stat.LinkTarget)}); name the file or directory it points to");
            default:
                if (isDirectory)
                {
                    throw new CpException($"cannot copy a directory onto the file {shown}");
                }

                if (destination.TrailingSlash)
                {
                    throw new CpException($"{shown} is not a directory");
                }

                (directory, name) = (destination.Parent, destination.Name);
                break;
        }

        await SendAsync(sandboxId, directory, output => LocalTar.WriteAsync(output, full, name, message => context.Complain("warning: " + message), ct), ct);
    }

    /// <summary>
    /// The guest's extract replaces whatever is in the way (a directory by a file, or the reverse); docker cp refuses
    /// that at the top, and so does this, rather than delete a tree the user did not name.
    /// </summary>
    private async Task RefuseTypeClashAsync(string sandboxId, string path, bool sourceIsDirectory, CancellationToken ct)
    {
        if (await StatAsync(sandboxId, path, ct) is { } existing && (existing.Type == "directory") != sourceIsDirectory)
        {
            throw new CpException(sourceIsDirectory
                ? $"cannot overwrite non-directory {sandboxId}:{path} with a directory"
                : $"cannot overwrite directory {sandboxId}:{path} with a non-directory");
        }
    }

    private async Task<SandboxPathStat?> StatAsync(string sandboxId, string path, CancellationToken ct) =>
        (await connection.Sandboxes.StatSandboxPathAsync(new StatSandboxPathRequest { SandboxId = sandboxId, Path = path }, cancellationToken: ct)).Stat;

    /// <summary>Streams what <paramref name="write"/> produces; a daemon that ends the call early is reported by its own status.</summary>
    private async Task SendAsync(string sandboxId, string directory, Func<Stream, Task> write, CancellationToken ct)
    {
        using var call = connection.Sandboxes.ExtractSandboxArchive(cancellationToken: ct);
        var output = new ExtractRequestStream(call.RequestStream, sandboxId, directory);
        RpcException? writeFailure = null;
        try
        {
            await write(output);
            await output.CompleteAsync(ct);
        }
        catch (RpcException ex) when (!ct.IsCancellationRequested)
        {
            writeFailure = ex;
        }

        await call.ResponseAsync;
        if (writeFailure is not null)
        {
            throw writeFailure;
        }
    }

    private async Task CopyStdinAsync(Stream output, CancellationToken ct)
    {
        var buffer = new byte[ExtractRequestStream.ChunkBytes];
        while (true)
        {
            // A read from a pipe ignores its token; waiting on the token as well lets Ctrl-C end the command.
            var read = await context.Stdin.ReadAsync(buffer, ct).AsTask().WaitAsync(ct);
            if (read == 0)
            {
                return;
            }

            await output.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }
}
