using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom image ls</c>: the images in the daemon's store, most recently used first.</summary>
internal sealed class ImageLsCommand : Command
{
    private readonly JsonOption _json = new();

    public ImageLsCommand(CliContext context, DaemonAccess daemon)
        : base("ls", "List the images in the daemon's store")
    {
        Aliases.Add("list");
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Images.ListImagesAsync(new ListImagesRequest(), cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                var images = response.Images.OrderByDescending(i => i.LastUsedAt).ThenBy(i => i.Digest, StringComparer.Ordinal);
                ImageViews.WriteTable(context.Out, OutputStyle.For(context), images, context.Clock.GetUtcNow());
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
