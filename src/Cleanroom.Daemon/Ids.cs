namespace Cleanroom.Daemon;

/// <summary>Sandbox and execution ids: 26-character lowercase ULIDs (sortable by creation time).</summary>
public static class Ids
{
    public static string New() => Ulid.NewUlid().ToString().ToLowerInvariant();

    /// <summary>True for a well-formed id; used to reject junk before it reaches paths or queries.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: 26 } && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'z')) && Ulid.TryParse(id.ToUpperInvariant(), out _);
}
