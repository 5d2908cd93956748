using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Cleanroom.Client;
using Cleanroom.Oci;
using Grpc.Core;

namespace Cleanroom.Cli.Images;

/// <summary>
/// Pulls an image through the daemon with progress on stderr. <c>image pull</c> uses it, and so do
/// <c>sandbox create</c> and <c>exec</c> before they create a sandbox, so that a first-time download shows its
/// progress instead of looking like a create that hangs.
/// </summary>
internal static class ImagePull
{
    /// <summary>The daemon's built-in image: it is never in the image store, so there is nothing to pull.</summary>
    public const string BuiltinRef = "builtin:busybox";

    /// <summary>Pulls <paramref name="reference"/>; returns the last event, which carries the image.</summary>
    /// <param name="ifMissing">Take the stored image without asking the registry when the ref is already stored.</param>
    public static async Task<PullImageEvent> PullAsync(DaemonConnection connection, CliContext context, string reference, CancellationToken cancellationToken, bool ifMissing = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var call = connection.Images.PullImage(new PullImageRequest { Ref = reference, IfMissing = ifMissing }, cancellationToken: cancellationToken);
        var last = await PullProgressView.For(context, Canonical(reference)).FollowAsync(call.ResponseStream.ReadAllAsync(cancellationToken));
        return last?.Image is not null
            ? last
            : throw new RpcException(new Status(StatusCode.Internal, $"the daemon ended the pull of {reference} without reporting the image"));
    }

    /// <summary>
    /// Pulls the image a new sandbox will boot, unless there is none or it is the built-in one. Only stderr is
    /// written: exec's stdout belongs to the command and sandbox create's to the id.
    /// </summary>
    public static async Task PullForSandboxAsync(DaemonConnection connection, CliContext context, string? imageRef, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(imageRef) || imageRef.Trim() == BuiltinRef)
        {
            return;
        }

        // The sandbox boots what the store has (as the daemon's create does): no registry round trip for a stored ref.
        var pulled = await PullAsync(connection, context, imageRef.Trim(), cancellationToken, ifMissing: true);
        if (!pulled.Cached)
        {
            context.Complain($"pulled {Canonical(imageRef)} ({pulled.Image.Digest})");
        }
    }

    /// <summary>The reference as the daemon records it (e.g. registry lowercased); the text itself when it does not parse.</summary>
    public static string Canonical(string reference) =>
        ImageReference.Parse(reference, out _)?.Reference ?? reference.Trim();
}
