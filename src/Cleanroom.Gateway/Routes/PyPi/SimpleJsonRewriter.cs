using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cleanroom.Gateway.Upstream;

namespace Cleanroom.Gateway.Routes.PyPi;

/// <summary>
/// Rewrites a PEP 691 JSON page: every <c>files[].url</c> goes through <see cref="SimpleLinks"/>; a file whose URL
/// is unusable (or not a string) is left out. Every other member is kept. A body that is not a JSON object, or has
/// a <c>files</c> member that is not an array of objects, is an upstream error.
/// </summary>
internal static class SimpleJsonRewriter
{
    private static readonly JsonDocumentOptions Reading = new() { MaxDepth = 64 };

    /// <summary>The rewritten page as UTF-8 JSON.</summary>
    public static byte[] Rewrite(byte[] json, SimpleLinks links)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: Reading);
        }
        catch (JsonException ex)
        {
            throw new UpstreamFailedException($"the upstream's PEP 691 page is not valid JSON ({ex.Message})");
        }

        if (root is not JsonObject page)
        {
            throw new UpstreamFailedException("the upstream's PEP 691 page is not a JSON object");
        }

        if (page["files"] is { } filesNode)
        {
            if (filesNode is not JsonArray files)
            {
                throw new UpstreamFailedException("the upstream's PEP 691 page has a 'files' member that is not an array");
            }

            for (var i = files.Count - 1; i >= 0; i--)
            {
                if (files[i] is not JsonObject file)
                {
                    throw new UpstreamFailedException("the upstream's PEP 691 page lists a file that is not an object");
                }

                var sha256 = file["hashes"] is JsonObject hashes && hashes["sha256"] is JsonValue hash && hash.TryGetValue<string>(out var hex) ? hex : null;
                var mapped = file["url"] is JsonValue url && url.TryGetValue<string>(out var text) ? links.Map(text, sha256) : null;
                if (mapped is null)
                {
                    files.RemoveAt(i);
                }
                else
                {
                    file["url"] = mapped;
                }
            }
        }

        return Encoding.UTF8.GetBytes(page.ToJsonString());
    }
}
