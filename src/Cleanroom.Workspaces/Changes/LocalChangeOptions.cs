namespace Cleanroom.Workspaces.Changes;

/// <summary>Bounds on what <c>--copy-in</c> sends into a sandbox, and how long git may take to list it.</summary>
public sealed record LocalChangeOptions
{
    /// <summary>Most changed paths (files, symlinks and deletions) copied in.</summary>
    public int MaxFiles { get; init; } = 20_000;

    /// <summary>Most bytes of file content copied in.</summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>Time allowed to each git run.</summary>
    public TimeSpan GitTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The defaults.</summary>
    public static LocalChangeOptions Default { get; } = new();
}
