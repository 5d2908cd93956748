using System.CommandLine;
using Cleanroom.Cli.Images;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom image import REF [FILE|-]</c>: sends a <c>docker save</c> or OCI layout archive (gzip is fine) to
/// the daemon, which stores it under REF. Without FILE, or with <c>-</c>, the archive is read from stdin.
/// </summary>
internal sealed class ImageImportCommand : Command
{
    private readonly Argument<string?> _ref = ImageRefArgument.Create("The reference to store the image under");
    private readonly Argument<string?> _file = new("file") { Description = "The archive; '-' or nothing reads stdin", Arity = ArgumentArity.ZeroOrOne };
    private readonly JsonOption _json = new();

    public ImageImportCommand(CliContext context, DaemonAccess daemon)
        : base("import", "Import an image archive (docker save or OCI layout tar) into the daemon's store")
    {
        Arguments.Add(_ref);
        Arguments.Add(_file);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var reference = parse.GetValue(_ref)!.Trim();
            var file = parse.GetValue(_file);
            var fromStdin = file is null or "-";
            if (fromStdin && context.StdinIsTerminal)
            {
                // A terminal cannot supply a tar archive; waiting for one would only look like a hang.
                context.Complain("no archive to import: give FILE, or pipe one in (docker save IMAGE | cleanroom image import REF)");
                return ExitCodes.Usage;
            }

            Stream archive;
            try
            {
                archive = fromStdin ? context.Stdin : File.OpenRead(file!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                context.Complain($"cannot read {file}: {ex.Message}");
                return ExitCodes.Usage;
            }

            using var opened = fromStdin ? null : archive;
            long? size = archive.CanSeek ? archive.Length - archive.Position : null;
            var response = await TransferProgress.RunAsync(context, $"sending {(fromStdin ? "stdin" : file)}", size,
                progress => ArchiveUpload.SendAsync(connection, reference, archive, progress, cancellationToken));
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response.Image);
            }
            else
            {
                ImageViews.WriteResult(context.Out, "imported image", ImagePull.Canonical(reference), response.Image);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
