using System.Text.Json;
using Cleanroom.Oci;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// Decides a fetched manifest's media type, which is what the guest is told it is (its Content-Type): only OCI and
/// Docker v2 manifests and indexes pass. The served Content-Type decides, and the document's own <c>mediaType</c>,
/// when it has one, must agree with it; a registry that sends no usable Content-Type is believed only when the
/// document names an accepted type itself. Schema 1 manifests, artifacts of other types and non-JSON are refused.
/// </summary>
internal static class OciManifestMediaType
{
    /// <summary>The media type to serve <paramref name="bytes"/> as; throws <see cref="OciManifestRejectedException"/> when none is acceptable.</summary>
    public static string Resolve(byte[] bytes, string? servedType, string subject)
    {
        string? declared;
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new OciManifestRejectedException($"{subject} is not a JSON object");
            }

            if (!document.RootElement.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number
                || !version.TryGetInt32(out var number) || number != 2)
            {
                throw new OciManifestRejectedException($"{subject} is not a schemaVersion 2 manifest (Docker schema 1 and other formats are not served)");
            }

            declared = document.RootElement.TryGetProperty("mediaType", out var field) && field.ValueKind == JsonValueKind.String ? field.GetString() : null;
        }
        catch (JsonException)
        {
            throw new OciManifestRejectedException($"{subject} is not valid JSON");
        }

        var served = string.IsNullOrEmpty(servedType) ? null : servedType.Trim().ToLowerInvariant();
        if (served is not null && IsAccepted(served))
        {
            if (declared is not null && declared != served)
            {
                throw new OciManifestRejectedException($"{subject} is served as {served} but calls itself {OciGrammar.Shown(declared)}");
            }

            return served;
        }

        if (declared is not null && IsAccepted(declared))
        {
            return declared;
        }

        throw new OciManifestRejectedException(
            $"{subject} is of type {OciGrammar.Shown(served ?? declared)}; only OCI and Docker v2 manifests and indexes are served ({string.Join(", ", MediaTypes.AcceptedManifests)})");
    }

    private static bool IsAccepted(string mediaType) => MediaTypes.AcceptedManifests.Contains(mediaType, StringComparer.Ordinal);
}
