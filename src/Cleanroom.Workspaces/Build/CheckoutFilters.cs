using System.Text;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// Whether a tree's files would differ from their blobs when git checks them out. On Linux, with the staging
/// repository's empty configuration, only <c>.gitattributes</c> can make them: <c>eol=crlf</c> (or the old
/// <c>crlf</c>), <c>ident</c>, <c>filter=</c> and <c>working-tree-encoding=</c>. A tree with any of those words in
/// any <c>.gitattributes</c> is checked out by git (the slower way) so the workspace is byte for byte what
/// <c>git checkout</c> gives; every other tree's blobs are written to the image as they are.
/// </summary>
internal static class CheckoutFilters
{
    /// <summary>Most <c>.gitattributes</c> files read before deciding for a checkout anyway.</summary>
    public const int MaxAttributeFiles = 256;

    /// <summary>Most bytes of them read before deciding for a checkout anyway.</summary>
    public const long MaxAttributeBytes = 1 << 20;

    private static readonly string[] ConvertingWords = ["crlf", "ident", "filter", "working-tree-encoding"];

    /// <summary>True when some <c>.gitattributes</c> of <paramref name="listing"/> may change files on checkout.</summary>
    public static async Task<bool> MayConvertAsync(string repository, IReadOnlyList<TreeEntry> listing, TimeSpan timeout, CancellationToken ct)
    {
        var attributes = listing.Where(e => e.Mode is TreeEntry.RegularMode or TreeEntry.ExecutableMode && IsAttributesFile(e.Path)).ToList();
        if (attributes.Count == 0)
        {
            return false;
        }

        if (attributes.Count > MaxAttributeFiles || attributes.Sum(e => e.Size) > MaxAttributeBytes)
        {
            return true;
        }

        await using var batch = BlobBatch.Start(repository, attributes.Select(e => e.ObjectId).ToList(), timeout, ct);
        var converting = false;
        foreach (var entry in attributes)
        {
            await batch.NextAsync(entry.ObjectId, entry.Size, ".gitattributes");
            var content = new byte[entry.Size];
            await batch.Content.ReadExactlyAsync(content, batch.Token);
            await batch.EndObjectAsync(".gitattributes");
            var text = Encoding.Latin1.GetString(content);
            converting |= ConvertingWords.Any(word => text.Contains(word, StringComparison.OrdinalIgnoreCase));
        }

        await batch.CompleteAsync();
        return converting;
    }

    private static bool IsAttributesFile(byte[] path)
    {
        var name = ".gitattributes"u8;
        return path.AsSpan().EndsWith(name) && (path.Length == name.Length || path[^(name.Length + 1)] == (byte)'/');
    }
}
