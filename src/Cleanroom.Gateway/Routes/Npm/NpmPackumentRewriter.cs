using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Cleanroom.Gateway.Routes.Npm;

/// <summary>
/// Rewrites the <c>versions.*.dist.tarball</c> URLs of a packument in one streaming pass (no document tree: a full
/// packument can be tens of megabytes). Everything else is copied token by token, numbers and strings as they were
/// written. Invalid JSON or UTF-8, a root that is not an object, or nesting deeper than <see cref="MaxDepth"/> is refused.
/// </summary>
internal static class NpmPackumentRewriter
{
    /// <summary>Deepest nesting accepted (package.json fields such as configuration blocks nest, but not this far).</summary>
    public const int MaxDepth = 128;

    private static readonly byte[] Quote = [(byte)'"'];

    /// <summary>
    /// The packument <paramref name="json"/> with every tarball URL passed through <paramref name="rewrite"/> (null
    /// keeps the URL as it was). Throws <see cref="InvalidDataException"/> when it is not an acceptable packument.
    /// </summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> json, Func<string, string?> rewrite)
    {
        // Strings are copied without being decoded, so the reader would not notice bytes that are not UTF-8.
        if (!Utf8.IsValid(json))
        {
            throw new InvalidDataException("the packument is not valid UTF-8");
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        var output = new ArrayBufferWriter<byte>(json.Length + 1024);
        using var writer = new Utf8JsonWriter(
            output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = MaxDepth + 1 });

        // names[i]: the property that led into open container i (null for the root and for array elements).
        var names = new List<string?>();
        string? pending = null;
        try
        {
            var first = true;
            while (reader.Read())
            {
                if (first && reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new InvalidDataException("the packument is not a JSON object");
                }

                first = false;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        writer.WriteStartObject();
                        names.Add(pending);
                        pending = null;
                        break;
                    case JsonTokenType.StartArray:
                        writer.WriteStartArray();
                        names.Add(pending);
                        pending = null;
                        break;
                    case JsonTokenType.EndObject:
                        writer.WriteEndObject();
                        names.RemoveAt(names.Count - 1);
                        break;
                    case JsonTokenType.EndArray:
                        writer.WriteEndArray();
                        names.RemoveAt(names.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        pending = reader.GetString()!;
                        writer.WritePropertyName(pending);
                        break;
                    case JsonTokenType.String when IsTarball(names, pending) && rewrite(reader.GetString()!) is { } replaced:
                        writer.WriteStringValue(replaced);
                        pending = null;
                        break;
                    case JsonTokenType.String:
                        // Copied as written (escapes included), so no string is re-encoded.
                        writer.WriteRawValue([.. Quote, .. reader.ValueSpan, .. Quote], skipInputValidation: true);
                        pending = null;
                        break;
                    default:
                        writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                        pending = null;
                        break;
                }
            }

            if (first)
            {
                throw new InvalidDataException("the packument is empty");
            }

            writer.Flush();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException("the packument is not valid JSON: " + ex.Message, ex);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>At <c>ROOT.versions.VERSION.dist.tarball</c>, every container an object.</summary>
    private static bool IsTarball(List<string?> names, string? pending) =>
        pending == "tarball" && names.Count == 4 && names[1] == "versions" && names[2] is not null && names[3] == "dist";
}
