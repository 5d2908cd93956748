using System.Text.Encodings.Web;
using System.Text.Json;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>
/// The <c>--json</c> output of the policy commands. Written with <see cref="Utf8JsonWriter"/> (no reflection, so
/// it works under trimming and NativeAOT) and without escaping non-ASCII text, so host names stay readable.
/// </summary>
internal static class PolicyReportJson
{
    private static readonly JsonWriterOptions Indented = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// <c>{valid, source, hash, policy, errors, warnings}</c>; <c>hash</c> and <c>policy</c> are null when invalid.
    /// Each diagnostic is <c>{severity, code, reason, file, line, column, path, message, found, expected}</c>.
    /// </summary>
    public static string Validation(PolicyLoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Write(json =>
        {
            json.WriteStartObject();
            json.WriteBoolean("valid", result.IsValid);
            json.WriteString("source", result.SourcePath);
            json.WriteString("hash", result.Policy?.Hash);
            json.WritePropertyName("policy");
            if (result.Policy is { } policy)
            {
                using var document = JsonDocument.Parse(policy.ToCanonicalJson());
                document.WriteTo(json);
            }
            else
            {
                json.WriteNullValue();
            }

            WriteDiagnostics(json, "errors", result.Errors);
            WriteDiagnostics(json, "warnings", result.Warnings);
            json.WriteEndObject();
        });
    }

    /// <summary>Re-indents compact JSON for display, keeping its member order.</summary>
    public static string Indent(string compactJson)
    {
        using var document = JsonDocument.Parse(compactJson);
        return Write(document.WriteTo);
    }

    private static void WriteDiagnostics(Utf8JsonWriter json, string name, IEnumerable<PolicyDiagnostic> diagnostics)
    {
        json.WriteStartArray(name);
        foreach (var diagnostic in diagnostics)
        {
            json.WriteStartObject();
            json.WriteString("severity", diagnostic.Severity == DiagnosticSeverity.Error ? "error" : "warning");
            json.WriteString("code", diagnostic.Code);
            json.WriteString("reason", diagnostic.Reason.ToSnakeCase());
            json.WriteString("file", diagnostic.Location.File);
            json.WriteNumber("line", diagnostic.Location.Line);
            json.WriteNumber("column", diagnostic.Location.Column);
            json.WriteString("path", diagnostic.KeyPath);
            json.WriteString("message", diagnostic.Message);
            json.WriteString("found", diagnostic.Found);
            json.WriteString("expected", diagnostic.Expected);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Indented))
        {
            write(json);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
