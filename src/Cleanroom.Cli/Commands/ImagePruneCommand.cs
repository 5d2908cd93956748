using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom image prune [--dry-run]</c>: removes every stored image no sandbox uses, and says which and how many
/// bytes that freed.
/// </summary>
internal sealed class ImagePruneCommand : Command
{
    private readonly FlagOption _dryRun = new("--dry-run", "Only list the images that would be removed");
    private readonly JsonOption _json = new();

    public ImagePruneCommand(CliContext context, DaemonAccess daemon)
        : base("prune", "Remove every image in the daemon's store that no sandbox uses")
    {
        Options.Add(_dryRun);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Images.PruneImagesAsync(new PruneImagesRequest { DryRun = parse.GetValue(_dryRun) }, cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                ImageViews.WritePruneResult(context.Out, response);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
