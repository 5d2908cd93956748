namespace Cleanroom.Images.Layers;

/// <summary>The whiteout meaning of a normalised entry path (see the OCI image-spec, "Whiteouts").</summary>
/// <param name="Target">For <see cref="WhiteoutKind.Remove"/> the path to delete; for <see cref="WhiteoutKind.Opaque"/> the directory.</param>
internal readonly record struct Whiteout(WhiteoutKind Kind, string Target)
{
    public const string Prefix = ".wh.";
    public const string MetaPrefix = ".wh..wh.";
    public const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>
    /// True when any component of <paramref name="path"/> begins with <see cref="Prefix"/>: in a layer such a name is a
    /// whiteout, so a real file named that way cannot travel as itself.
    /// </summary>
    public static bool IsReservedName(string path) =>
        path.StartsWith(Prefix, StringComparison.Ordinal) || path.Contains("/" + Prefix, StringComparison.Ordinal);

    public static Whiteout Classify(string path)
    {
        // Cheap exit for the overwhelmingly common case.
        if (!path.Contains(Prefix, StringComparison.Ordinal))
        {
            return default;
        }

        var slash = path.LastIndexOf('/');
        var parent = slash < 0 ? "" : path[..slash];
        var name = path.AsSpan(slash + 1);
        if (name is OpaqueMarker)
        {
            return new Whiteout(WhiteoutKind.Opaque, parent);
        }

        // AUFS keeps hard-link bookkeeping under "/.wh..wh.plnk/"; anything in or named like its metadata is skipped.
        if (name.StartsWith(MetaPrefix, StringComparison.Ordinal) || path.StartsWith(MetaPrefix, StringComparison.Ordinal)
            || path.Contains("/" + MetaPrefix, StringComparison.Ordinal))
        {
            return new Whiteout(WhiteoutKind.Ignored, "");
        }

        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return default;
        }

        var deleted = name[Prefix.Length..];
        if (deleted.IsEmpty || deleted is "." or "..")
        {
            throw new EntryRejectedException($"is a whiteout for '{deleted}', which is not a file name");
        }

        return new Whiteout(WhiteoutKind.Remove, slash < 0 ? deleted.ToString() : string.Concat(parent, "/", deleted));
    }
}
