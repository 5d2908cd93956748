namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The image every machine has: a small busybox root built locally by scripts/setup.sh, so sandboxes work with no
/// registry access. Used when neither the request nor the policy names an image.
/// </summary>
public static class BuiltinImage
{
    public const string Ref = "builtin:busybox";
}
