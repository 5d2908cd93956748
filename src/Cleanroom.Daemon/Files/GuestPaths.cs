using Cleanroom.Escaping;

namespace Cleanroom.Daemon.Files;

/// <summary>Checks guest paths a client names before they become a tool's arguments.</summary>
internal static class GuestPaths
{
    public const int MaxLength = 4096;

    public static string Require(string path, string what)
    {
        if (path.Length is 0 or > MaxLength || path[0] != '/' || path.Contains('\0', StringComparison.Ordinal))
        {
            throw DaemonException.InvalidArgument($"{what} {UntrustedText.Quote(path)} must be an absolute guest path (at most {MaxLength} characters, no NUL)");
        }

        return path;
    }
}
