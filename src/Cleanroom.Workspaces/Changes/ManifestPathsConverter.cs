using System.Text.Json;
using System.Text.Json.Serialization;
using Cleanroom.Escaping;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// The manifest's paths as a JSON object, exactly. JSON strings are Unicode, and System.Text.Json writes a lone
/// surrogate as U+FFFD, so a name that is not valid UTF-8 (escaped bytes, see <see cref="FileNameBytes"/>) would come
/// back as another name and its base would be lost. Such a key is written as <see cref="RawKeyPrefix"/> and the
/// name's bytes in base64; manifest paths are relative, so no real path begins with '/'.
/// </summary>
internal sealed class ManifestPathsConverter : JsonConverter<IReadOnlyDictionary<string, BaseEntry>>
{
    /// <summary>Marks a key that holds a name's bytes, base64.</summary>
    public const string RawKeyPrefix = "/raw:";

    public override IReadOnlyDictionary<string, BaseEntry> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("the manifest's paths are not an object");
        }

        var paths = new Dictionary<string, BaseEntry>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString() ?? throw new JsonException("a manifest path is null");
            reader.Read();
            var entry = JsonSerializer.Deserialize(ref reader, ChangesJsonContext.Default.BaseEntry) ?? throw new JsonException("a manifest entry is null");
            paths[Decode(key)] = entry;
        }

        return paths;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, BaseEntry> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (path, entry) in value)
        {
            writer.WritePropertyName(FileNameBytes.HasEscapedBytes(path) ? RawKeyPrefix + Convert.ToBase64String(FileNameBytes.Encode(path)) : path);
            JsonSerializer.Serialize(writer, entry, ChangesJsonContext.Default.BaseEntry);
        }

        writer.WriteEndObject();
    }

    private static string Decode(string key)
    {
        if (!key.StartsWith(RawKeyPrefix, StringComparison.Ordinal))
        {
            return key;
        }

        try
        {
            return FileNameBytes.Decode(Convert.FromBase64String(key[RawKeyPrefix.Length..]));
        }
        catch (FormatException ex)
        {
            throw new JsonException("a raw manifest path is not base64", ex);
        }
    }
}
