using System.Globalization;
using System.Text.Json.Serialization;

namespace Cleanroom.Workspaces.Changes;

/// <summary>What a copy-out did, or would do.</summary>
public enum CopyOutOutcome
{
    /// <summary>The changes are in the working tree.</summary>
    Applied,

    /// <summary>Nothing was touched: a dry run.</summary>
    DryRun,

    /// <summary>Nothing was touched: local edits conflict with the sandbox's changes and force was not given.</summary>
    Conflicts,
}

/// <summary>The plan of a copy-out and its outcome, for the CLI's text and <c>--json</c> output. Paths are sorted.</summary>
public sealed record CopyOutResult
{
    /// <summary>What happened.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<CopyOutOutcome>))]
    public required CopyOutOutcome Outcome { get; init; }

    /// <summary>Files and symlinks the working tree did not have.</summary>
    public required IReadOnlyList<string> Added { get; init; }

    /// <summary>Files and symlinks whose content or type changes.</summary>
    public required IReadOnlyList<string> Modified { get; init; }

    /// <summary>Files whose executable bit alone changes.</summary>
    public required IReadOnlyList<string> ModeChanged { get; init; }

    /// <summary>Files, symlinks and everything below deleted directories that are removed.</summary>
    public required IReadOnlyList<string> Deleted { get; init; }

    /// <summary>Local edits in the way; with force they are overwritten and still listed here.</summary>
    public required IReadOnlyList<CopyOutConflict> Conflicts { get; init; }

    /// <summary>Paths in the archive that already match the working tree.</summary>
    public required int Unchanged { get; init; }

    /// <summary>Bytes of file content written (added and modified files).</summary>
    public required long BytesWritten { get; init; }

    /// <summary>Paths that change.</summary>
    public int Files => Added.Count + Modified.Count + ModeChanged.Count + Deleted.Count;

    /// <summary>The result as one JSON object (<c>--json</c>): outcome, the path lists, conflicts and counts.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, ChangesJsonContext.Default.CopyOutResult);

    /// <summary>A <c>git diff --stat</c>-like one-liner.</summary>
    public string Summary()
    {
        var verb = Outcome switch
        {
            CopyOutOutcome.Applied => "copied out",
            CopyOutOutcome.DryRun => "would be copied out",
            _ => $"not copied out: {Conflicts.Count} {(Conflicts.Count == 1 ? "path was" : "paths were")} changed locally (use --force to overwrite)",
        };
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Files} {(Files == 1 ? "file" : "files")} {verb}: {Added.Count} added, {Modified.Count} modified, {ModeChanged.Count} mode changed, {Deleted.Count} deleted, +{BytesWritten:N0} bytes");
    }
}
