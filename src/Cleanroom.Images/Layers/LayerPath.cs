using System.Text;

namespace Cleanroom.Images.Layers;

/// <summary>
/// Turns a tar entry name (or hard-link target) into a clean path relative to the image root: "a/b/c", or "" for the
/// root itself. Names that could reach outside the root are refused here, before any file-system call sees them;
/// symlinks planted by the layers are the other way out, and <see cref="ImageTree"/> deals with those.
/// </summary>
internal static class LayerPath
{
    public const int MaxPathBytes = 4096;
    public const int MaxComponentBytes = 255;

    /// <param name="name">The name as the tar entry spells it.</param>
    /// <param name="subject">What the name is, for messages: "a path" or "a hard link target".</param>
    public static string Normalize(string name, string subject)
    {
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new EntryRejectedException($"has {subject} that contains a NUL character");
        }

        if (name.StartsWith('/'))
        {
            throw new EntryRejectedException($"has {subject} that is absolute; paths in a layer are relative to the image root");
        }

        if (EntryNames.ByteCount(name) > MaxPathBytes)
        {
            throw new EntryRejectedException($"has {subject} longer than {MaxPathBytes} bytes");
        }

        // One pass decides whether the name is already clean (the usual case: no allocation) or needs rebuilding.
        var clean = !name.EndsWith('/');
        foreach (var range in name.AsSpan().Split('/'))
        {
            var component = name.AsSpan(range);
            if (component.IsEmpty || component is ".")
            {
                clean = false;
            }
            else if (component is "..")
            {
                throw new EntryRejectedException($"has {subject} that climbs out of the image root with '..'");
            }
            else if (component.Length * 3 > MaxComponentBytes && EntryNames.ByteCount(component) > MaxComponentBytes)
            {
                throw new EntryRejectedException($"has {subject} with a component longer than {MaxComponentBytes} bytes");
            }
        }

        return clean ? name : Rebuild(name);
    }

    private static string Rebuild(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var range in name.AsSpan().Split('/'))
        {
            var component = name.AsSpan(range);
            if (component.IsEmpty || component is ".")
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append('/');
            }

            builder.Append(component);
        }

        return builder.ToString();
    }
}
