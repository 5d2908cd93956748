using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// The one way every <c>--json</c> prints: the protobuf JSON mapping of the API message, one message per line,
/// so output matches what any cleanroom.v1 client would get.
/// </summary>
internal static class JsonOutput
{
    // Utf8JsonWriter needs no reflection (NativeAOT); paths and refs print as written, not \u-escaped.
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter output, IMessage message) => output.WriteLine(JsonFormatter.Default.Format(message));

    /// <summary>A flat object of string fields on one line, for results that are not an API message.</summary>
    public static void WriteObject(TextWriter output, IEnumerable<(string Key, string Value)> fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Compact))
        {
            json.WriteStartObject();
            foreach (var (key, value) in fields)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
