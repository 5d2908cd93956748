using System.CommandLine;
using Cleanroom.Cli.Images;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom image pull REF</c>: fetches the image into the daemon's store (progress on stderr), then prints
/// <c>pulled image</c> or <c>cached image</c> and its <c>key=value</c> facts.
/// </summary>
internal sealed class ImagePullCommand : Command
{
    private readonly Argument<string?> _ref = ImageRefArgument.Create("Image reference, e.g. alpine:3.20 or ghcr.io/org/image@sha256:…");
    private readonly JsonOption _json = new();

    public ImagePullCommand(CliContext context, DaemonAccess daemon)
        : base("pull", "Pull an image into the daemon's store")
    {
        Arguments.Add(_ref);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var reference = parse.GetValue(_ref)!.Trim();
            var pulled = await ImagePull.PullAsync(connection, context, reference, cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, pulled.Image);
            }
            else
            {
                ImageViews.WriteResult(context.Out, pulled.Cached ? "cached image" : "pulled image", ImagePull.Canonical(reference), pulled.Image);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
