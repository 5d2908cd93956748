using System.CommandLine;
using Cleanroom.Api.V1;

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
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, connection =>
            EachTarget.RunAsync(
                context,
                connection,
                parse.GetValue(_selectors)!,
                parse.GetValue(_json),
                selector => connection.Images.RemoveImageAsync(new RemoveImageRequest { Selector = selector }, cancellationToken: cancellationToken).ResponseAsync,
                response => response.Image.Refs.Count > 0 ? $"removed {response.Image.Digest} ({response.Image.Refs[0]})" : $"removed {response.Image.Digest}"), cancellationToken));
    }
}
