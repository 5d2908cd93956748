using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// What a sandbox started with beyond its commit: for every path copied in (<c>--copy-in</c>), the content it got or
/// that it was deleted. The daemon keeps it with the sandbox; a copy-out compares the local tree against it (and
/// against the commit for every other path) to tell local edits made meanwhile from the sandbox's own changes.
/// </summary>
/// <param name="Commit">The full id of the commit the sandbox's image holds.</param>
/// <param name="Paths">
/// Path (relative to the repository root, '/'-separated; exact, see <see cref="Cleanroom.Escaping.FileNameBytes"/>) to
/// what the sandbox started with there.
/// </param>
public sealed record BaseManifest(
    string Commit,
    [property: JsonConverter(typeof(ManifestPathsConverter))] IReadOnlyDictionary<string, BaseEntry> Paths)
{
    /// <summary>A manifest of a sandbox that got nothing copied in.</summary>
    public static BaseManifest Empty(string commit) => new(commit, new Dictionary<string, BaseEntry>(StringComparer.Ordinal));

    /// <summary>What the sandbox started with at <paramref name="path"/>, if it was copied in.</summary>
    public BaseEntry? Find(string path) => Paths.TryGetValue(path, out var entry) ? entry : null;

    /// <summary>The manifest as JSON, for the daemon to store.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ChangesJsonContext.Default.BaseManifest);

    /// <summary>Reads a manifest written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">The text is not a manifest.</exception>
    public static BaseManifest FromJson(string json)
    {
        var manifest = JsonSerializer.Deserialize(json, ChangesJsonContext.Default.BaseManifest) ?? throw new JsonException("the manifest is null");
        return manifest with { Paths = new Dictionary<string, BaseEntry>(manifest.Paths, StringComparer.Ordinal) };
    }
}
