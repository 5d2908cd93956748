namespace Cleanroom.Workspaces.Changes;

/// <summary>What a sandbox's <c>/workspace</c> started with at one path that was copied in over the commit.</summary>
/// <param name="Mode">Git's mode of what was copied in (100644, 100755, 120000), or null when the path was deleted.</param>
/// <param name="Blob">Git blob id of the content copied in, or null when the path was deleted.</param>
public sealed record BaseEntry(string? Mode, string? Blob)
{
    /// <summary>The sandbox started without this path although the commit has it.</summary>
    public static BaseEntry Deleted { get; } = new(null, null);

    /// <summary>True when the copy-in deleted the path.</summary>
    public bool IsDeleted => Blob is null;
}
