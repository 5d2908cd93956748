namespace Cleanroom.Workspaces.Tests;

/// <summary>Everything observable about a working tree except times: paths, types, modes, link targets, file contents.</summary>
internal static class TreeSnapshot
{
    public static Task<string> TakeAsync(string root) => Shell.ShAsync(
        root,
        "find . -path ./.git -prune -o -printf '%p %y %m %l\\n' | LC_ALL=C sort | od -An -c; " +
        "find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum | od -An -c");
}
