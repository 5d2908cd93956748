using System.Text.Json;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// What an image's build learned that a cache hit must still report (the skipped submodules), kept beside the image
/// as <c>&lt;key&gt;.json</c> so a hit needs no git.
/// </summary>
internal sealed record WorkspaceMetadata(string Commit, IReadOnlyList<string> SkippedSubmodules, long Entries, long ContentBytes)
{
    private const long MaxFileBytes = 16L << 20;

    /// <summary>Writes atomically (temp name, then rename) so a reader never sees half a file.</summary>
    public async Task WriteAsync(string path, CancellationToken ct)
    {
        var temp = path + ".tmp";
        await using (var stream = File.Create(temp))
        {
            await JsonSerializer.SerializeAsync(stream, this, cancellationToken: ct);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The metadata at <paramref name="path"/>, or null when it is missing, too big or unreadable.</summary>
    public static WorkspaceMetadata? TryRead(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length <= MaxFileBytes ? JsonSerializer.Deserialize<WorkspaceMetadata>(File.ReadAllBytes(path)) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }
}
