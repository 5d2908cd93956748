using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Changes;

/// <summary>How a sandbox's changes are copied out into the local working tree.</summary>
public sealed record CopyOutOptions
{
    /// <summary>Bounds on the changes archive (bytes, entries, one file, path depth).</summary>
    public TransferLimits Limits { get; init; } = TransferLimits.Default;

    /// <summary>Apply even where the local tree changed since the sandbox started (local edits are overwritten).</summary>
    public bool Force { get; init; }

    /// <summary>Only plan: report what would change and the conflicts, touch nothing in the working tree.</summary>
    public bool DryRun { get; init; }

    /// <summary>Owner of written files and directories; by default the owner of the working tree's top level.</summary>
    public (int Uid, int Gid)? Owner { get; init; }

    /// <summary>Time allowed to each git run.</summary>
    public TimeSpan GitTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The defaults.</summary>
    public static CopyOutOptions Default { get; } = new();
}
