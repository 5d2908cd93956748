using System.CommandLine;
using Cleanroom.Cli.Files;
using Cleanroom.Workspaces;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom cp SRC DST</c>: copies files between this host and a sandbox with docker cp semantics; exactly one
/// side is <c>SANDBOX_ID:PATH</c> (an absolute guest path), the other a local path or <c>-</c> (a tar on stdin or
/// stdout). What comes out of a sandbox is unpacked with the confined unpacker and its limits.
/// </summary>
internal sealed class CpCommand : Command
{
    private readonly Argument<string> _source = new("src") { Description = "SANDBOX_ID:PATH, a local path, or '-' (a tar on stdin)", HelpName = "SRC" };
    private readonly Argument<string> _destination = new("dst") { Description = "SANDBOX_ID:PATH, a local path, or '-' (a tar on stdout)", HelpName = "DST" };

    public CpCommand(CliContext context, DaemonAccess daemon)
        : base("cp", "Copy files or directories between this host and a sandbox (SRC/. copies a directory's contents)")
    {
        Arguments.Add(_source);
        Arguments.Add(_destination);
        Validators.Add(result =>
        {
            if (result.GetValue(_source) is not { } source || result.GetValue(_destination) is not { } destination)
            {
                return;
            }

            if (Check(CpLocation.Parse(source), CpLocation.Parse(destination)) is { } error)
            {
                result.AddError(error);
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            if (!OperatingSystem.IsLinux())
            {
                context.Complain("cp runs on Linux hosts only");
                return ExitCodes.Failure;
            }

            var source = CpLocation.Parse(parse.GetValue(_source)!);
            var destination = CpLocation.Parse(parse.GetValue(_destination)!);
            // A terminal can neither supply a tar nor show one; waiting or printing binary would only confuse.
            if ((source.IsStandardStream && context.StdinIsTerminal) || (destination.IsStandardStream && context.StdoutIsTerminal))
            {
                context.Complain(source.IsStandardStream
                    ? "no tar to copy in: pipe one in (tar -c . | cleanroom cp - ID:/dir)"
                    : "refusing to write a tar to a terminal: redirect it (cleanroom cp ID:/path - > copy.tar)");
                return ExitCodes.Usage;
            }

            try
            {
                if (source.IsRemote)
                {
                    var path = GuestPath.Parse(source.Path, out _)!;
                    await new SandboxDownload(connection, context, TransferLimits.Default).RunAsync(source.SandboxId!, path, destination.Path, cancellationToken);
                }
                else
                {
                    var path = GuestPath.Parse(destination.Path, out _)!;
                    await new SandboxUpload(connection, context).RunAsync(source.Path, destination.SandboxId!, path, cancellationToken);
                }

                return ExitCodes.Success;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is CpException or WorkspaceException or IOException or UnauthorizedAccessException)
            {
                context.Complain(ex.Message);
                return ExitCodes.Failure;
            }
        }, cancellationToken));
    }

    /// <summary>Why a SRC/DST pair cannot be copied, or null when it can.</summary>
    internal static string? Check(CpLocation source, CpLocation destination)
    {
        if (source.IsRemote == destination.IsRemote)
        {
            return source.IsRemote
                ? "copying between sandboxes is not supported: one of SRC and DST must be a local path"
                : "one of SRC and DST must be SANDBOX_ID:PATH (a local path containing ':' can be written as ./PATH)";
        }

        var remote = source.IsRemote ? source : destination;
        return GuestPath.Parse(remote.Path, out var error) is null ? $"'{remote}': the path {error}" : null;
    }
}
