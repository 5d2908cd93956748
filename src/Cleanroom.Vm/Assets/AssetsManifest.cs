using System.Text.Json;

namespace Cleanroom.Vm.Assets;

/// <summary>
/// Reads the expected digests from assets.json. The file is written by scripts/setup.sh, so this reader is
/// deliberately tolerant about its shape and strict about its values. The canonical shape is
/// <code>
/// { "files": { "vmlinux": { "sha256": "…", "size": 123 }, "initramfs.cpio.gz": { … }, "base.ext4": { … } } }
/// </code>
/// and these are accepted too: a file name mapped directly to a digest string or object at the top level;
/// <c>"sha256": { "vmlinux": "…" }</c>; an array or object of entries carrying <c>name</c>/<c>file</c>/<c>path</c>
/// plus <c>sha256</c>; and <c>"&lt;file or role&gt;_sha256": "…"</c> keys (roles: kernel, initramfs/initrd, base/rootfs).
/// </summary>
public static class AssetsManifest
{
    private const int MaxDepth = 4;
    private const long MaxManifestBytes = 1024 * 1024;

    /// <summary>Linux's CONFIG_HZ choices are 100 to 1000 on x86; other architectures go as low as 24.</summary>
    private const int MinKernelHz = 24;
    private const int MaxKernelHz = 10000;

    private static readonly string[] NameProperties = ["name", "file", "filename", "path"];

    private static readonly Dictionary<string, string[]> Roles = new(StringComparer.Ordinal)
    {
        [BootAssets.KernelFileName] = ["kernel"],
        [BootAssets.InitrdFileName] = ["initramfs", "initrd"],
        [BootAssets.BaseImageFileName] = ["base", "rootfs", "base_image"],
    };

    /// <summary>Reads and parses <paramref name="manifestPath"/>; throws <see cref="BootAssetsException"/> if unreadable.</summary>
    public static IReadOnlyDictionary<string, ExpectedAsset> Read(string manifestPath) => ParseFile(ReadText(manifestPath), manifestPath);

    /// <summary>The text of <paramref name="manifestPath"/>, bounded; throws <see cref="BootAssetsException"/> when missing or too large.</summary>
    public static string ReadText(string manifestPath)
    {
        var info = new FileInfo(manifestPath);
        if (!info.Exists)
        {
            throw new BootAssetsException($"Boot asset manifest is missing at {manifestPath}. {BootAssets.SetupHint}");
        }

        if (info.Length > MaxManifestBytes)
        {
            throw new BootAssetsException($"Boot asset manifest {manifestPath} is implausibly large ({info.Length} bytes). {BootAssets.SetupHint}");
        }

        return File.ReadAllText(manifestPath);
    }

    /// <summary><see cref="Parse"/> of a manifest read from <paramref name="manifestPath"/>: bad JSON throws <see cref="BootAssetsException"/> naming it.</summary>
    public static IReadOnlyDictionary<string, ExpectedAsset> ParseFile(string json, string manifestPath)
    {
        try
        {
            return Parse(json);
        }
        catch (JsonException ex)
        {
            throw new BootAssetsException($"Boot asset manifest {manifestPath} is not valid JSON ({ex.Message}). {BootAssets.SetupHint}", ex);
        }
    }

    /// <summary>
    /// The kernel's tick rate (CONFIG_HZ) as scripts/fetch-kernel.sh recorded it in the manifest <paramref name="json"/>
    /// (<c>"kernel": { "hz": 250 }</c>), or null when it is not valid JSON, does not say, or says something no kernel
    /// is built with.
    /// </summary>
    public static int? KernelHz(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("kernel", out var kernel) && kernel.ValueKind == JsonValueKind.Object
                && kernel.TryGetProperty("hz", out var hz) && hz.ValueKind == JsonValueKind.Number
                && hz.TryGetInt32(out var value) && value is >= MinKernelHz and <= MaxKernelHz
                ? value
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Finds the expected digest and size of each of the three asset files in <paramref name="json"/>.</summary>
    public static IReadOnlyDictionary<string, ExpectedAsset> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        var result = new Dictionary<string, ExpectedAsset>(StringComparer.Ordinal);
        foreach (var fileName in Roles.Keys)
        {
            var found = Find(doc.RootElement, fileName, 0);
            if (found is not null)
            {
                result[fileName] = found;
            }
        }

        return result;
    }

    private static ExpectedAsset? Find(JsonElement element, string fileName, int depth)
    {
        if (depth > MaxDepth)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                var hit = Find(item, fileName, depth + 1);
                if (hit is not null)
                {
                    return hit;
                }
            }

            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        // An entry object that names the file itself: { "name": "vmlinux", "sha256": "…" }.
        if (NamesFile(element, fileName))
        {
            return FromValue(element, strict: true);
        }

        foreach (var property in element.EnumerateObject())
        {
            if (IsKeyFor(property.Name, fileName))
            {
                // A role key may hold something else ("kernel": "6.1.0-56-cloud-amd64"); only the file name is strict.
                var strict = string.Equals(property.Name, fileName, StringComparison.Ordinal);
                var direct = FromValue(property.Value, strict);
                if (direct is not null)
                {
                    return direct;
                }
            }

            if (IsDigestSuffixKeyFor(property.Name, fileName) && property.Value.ValueKind == JsonValueKind.String)
            {
                return new ExpectedAsset(NormaliseDigest(property.Value.GetString()), null);
            }
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                var nested = Find(property.Value, fileName, depth + 1);
                if (nested is not null)
                {
                    return nested;
                }
            }
        }

        return null;
    }

    private static bool NamesFile(JsonElement obj, string fileName)
    {
        foreach (var name in NameProperties)
        {
            if (obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                && string.Equals(Path.GetFileName(value.GetString()), fileName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsKeyFor(string key, string fileName) =>
        string.Equals(key, fileName, StringComparison.Ordinal) || Roles[fileName].Contains(key, StringComparer.Ordinal);

    private static bool IsDigestSuffixKeyFor(string key, string fileName)
    {
        foreach (var suffix in (string[])["_sha256", ".sha256"])
        {
            if (key.EndsWith(suffix, StringComparison.Ordinal) && IsKeyFor(key[..^suffix.Length], fileName))
            {
                return true;
            }
        }

        return false;
    }

    private static ExpectedAsset? FromValue(JsonElement value, bool strict)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString();
            return strict || LooksLikeDigest(text) ? new ExpectedAsset(NormaliseDigest(text), null) : null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? digest = null;
        if (value.TryGetProperty("sha256", out var sha) && sha.ValueKind == JsonValueKind.String)
        {
            digest = NormaliseDigest(sha.GetString());
        }

        long? size = null;
        foreach (var name in (string[])["size", "bytes", "size_bytes"])
        {
            if (value.TryGetProperty(name, out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n))
            {
                size = n;
                break;
            }
        }

        return digest is null && size is null ? null : new ExpectedAsset(digest, size);
    }

    private static bool LooksLikeDigest(string? text) => TryNormaliseDigest(text, out _);

    /// <summary>Accepts "hex" or "sha256:hex"; anything that is not 64 hex digits is rejected loudly.</summary>
    private static string NormaliseDigest(string? raw) =>
        TryNormaliseDigest(raw, out var digest) ? digest : throw new JsonException($"'{raw}' is not a sha256 hex digest");

    private static bool TryNormaliseDigest(string? raw, out string digest)
    {
        var value = (raw ?? string.Empty).Trim();
        if (value.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            value = value["sha256:".Length..];
        }

        digest = value.ToLowerInvariant();
        return value.Length == 64 && value.All(char.IsAsciiHexDigit);
    }
}
