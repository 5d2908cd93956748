using System.CommandLine;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom image</c>: the daemon's image store, and pinning the policy's image.</summary>
internal sealed class ImageCommand : Command
{
    public ImageCommand(CliContext context, DaemonAccess daemon)
        : base("image", "Pull, list, remove, prune, import and resolve images; pin the policy's image")
    {
        Add(new ImagePullCommand(context, daemon));
        Add(new ImageLsCommand(context, daemon));
        Add(new ImageRmCommand(context, daemon));
        Add(new ImagePruneCommand(context, daemon));
        Add(new ImageImportCommand(context, daemon));
        Add(new ImageResolveCommand(context, daemon));
        Add(new ImageBumpRefCommand(context, daemon));
    }
}
