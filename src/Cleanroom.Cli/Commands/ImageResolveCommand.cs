using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom image resolve REF</c>: asks the registry (through the daemon, which holds the credentials) which
/// digest a reference names now, and prints it pinned: <c>repo@sha256:…</c>.
/// </summary>
internal sealed class ImageResolveCommand : Command
{
    private readonly Argument<string?> _ref = ImageRefArgument.Create("Image reference to resolve, e.g. alpine:3.20");
    private readonly JsonOption _json = new();

    public ImageResolveCommand(CliContext context, DaemonAccess daemon)
        : base("resolve", "Print the digest-pinned form of an image reference")
    {
        Arguments.Add(_ref);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.Images.ResolveImageAsync(
                new ResolveImageRequest { Ref = parse.GetValue(_ref)!.Trim() }, cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                context.Out.WriteLine(response.ResolvedRef);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
