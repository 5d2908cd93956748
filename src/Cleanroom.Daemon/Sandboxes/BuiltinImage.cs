namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The image every machine has: a small busybox root built locally by scripts/setup.sh, so sandboxes work with no
/// registry access. OCI images come later; until then this is the only image a sandbox can boot.
/// </summary>
public static class BuiltinImage
{
    public const string Ref = "builtin:busybox";

    /// <summary>Normalises a requested image to the built-in one, or explains why it cannot be used yet.</summary>
    public static string Resolve(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested) || requested.Trim() == Ref)
        {
            return Ref;
        }

        throw DaemonException.InvalidArgument($"image '{requested}' cannot be used: pulling OCI images is not implemented yet; the available image is '{Ref}' (the default)");
    }
}
