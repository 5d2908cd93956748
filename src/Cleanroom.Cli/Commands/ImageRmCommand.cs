using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Cleanroom.Client;
using Grpc.Core;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom image rm SELECTOR...</c>: removes images from the store, going on past ones that fail. The daemon
/// resolves each selector: a ref, <c>repo@sha256:…</c>, <c>sha256:…</c> or 12+ hex digits of the digest.
/// </summary>
internal sealed class ImageRmCommand : Command
{
    private readonly Argument<string[]> _selectors = new("selector")
    {
        Description = "A ref, repo@sha256:…, sha256:… or at least 12 hex digits of the digest (as image ls shows it)",
        Arity = ArgumentArity.OneOrMore,
    };

    private readonly JsonOption _json = new();

    public ImageRmCommand(CliContext context, DaemonAccess daemon)
        : base("rm", "Remove images from the daemon's store")
    {
        Aliases.Add("remove");
        Arguments.Add(_selectors);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var exitCode = ExitCodes.Success;
            foreach (var selector in parse.GetValue(_selectors)!.Distinct(StringComparer.Ordinal))
            {
                RemoveImageResponse response;
                try
                {
                    response = await connection.Images.RemoveImageAsync(new RemoveImageRequest { Selector = selector }, cancellationToken: cancellationToken);
                }
                catch (RpcException ex) when (!DaemonErrors.IsUnreachable(ex) && ex.StatusCode != StatusCode.Cancelled)
                {
                    context.Complain($"{selector}: {DaemonErrors.Describe(ex, connection.Endpoint)}");
                    exitCode = ExitCodes.Failure;
                    continue;
                }

                if (parse.GetValue(_json))
                {
                    JsonOutput.Write(context.Out, response);
                }
                else
                {
                    var image = response.Image;
                    context.Out.WriteLine(image.Refs.Count > 0 ? $"removed {image.Digest} ({image.Refs[0]})" : $"removed {image.Digest}");
                }
            }

            return exitCode;
        }, cancellationToken));
    }
}
