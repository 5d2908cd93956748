using System.Text.Json;

namespace Cleanroom.Workspaces.Repositories;

/// <summary>
/// The <c>&lt;key&gt;.json</c> beside a mirror: which URL it mirrors (the key is a hash, so this is how a person or
/// <c>prune</c> can tell), when it was last fetched and used, and how big it was after the last fetch. Never holds
/// a credential: the URL is the normalised one, which cannot carry any.
/// </summary>
internal sealed record MirrorRecord(string Url, DateTime LastFetchUtc, DateTime LastUseUtc, long SizeBytes)
{
    private const long MaxFileBytes = 64 * 1024;

    /// <summary>Writes atomically (temp name, then rename) so a reader never sees half a record.</summary>
    public async Task WriteAsync(string path, CancellationToken ct)
    {
        var temp = path + ".tmp";
        await using (var stream = File.Create(temp))
        {
            await JsonSerializer.SerializeAsync(stream, this, cancellationToken: ct);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The record at <paramref name="path"/>, or null when it is missing, too big or unreadable.</summary>
    public static MirrorRecord? TryRead(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length <= MaxFileBytes ? JsonSerializer.Deserialize<MirrorRecord>(File.ReadAllBytes(path)) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
