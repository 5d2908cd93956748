using Cleanroom.Oci;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>Which image a sandbox boots.</summary>
public static class SandboxImage
{
    /// <summary>Null for the built-in image; otherwise the parsed reference (a bad one is the caller's error).</summary>
    public static ImageReference? ParseRequested(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested) || requested.Trim() == BuiltinImage.Ref)
        {
            return null;
        }

        return ImageReference.Parse(requested.Trim(), out var problem)
            ?? throw DaemonException.InvalidArgument($"image '{requested}' is not a valid reference: {problem}");
    }
}
