using Cleanroom.Escaping;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// A caller's name for a sandbox it wants created once and reused (CreateSandboxRequest.client_key). Bounded and
/// limited to characters that are safe in logs, file names and URLs, so a key never needs escaping where it is shown.
/// </summary>
public static class SandboxClientKey
{
    public const int MaxLength = 128;

    /// <summary>The key as given, or null for none (empty).</summary>
    /// <exception cref="DaemonException">invalid_argument: too long or a character outside <c>A-Z a-z 0-9 . _ - : / @</c>.</exception>
    public static string? Validate(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        if (key.Length > MaxLength)
        {
            throw DaemonException.InvalidArgument($"client_key has {key.Length} characters; at most {MaxLength} are allowed");
        }

        foreach (var c in key)
        {
            if (!IsAllowed(c))
            {
                throw DaemonException.InvalidArgument(
                    $"client_key {UntrustedText.Quote(key)} holds {UntrustedText.Quote(c.ToString())}; use ASCII letters, digits and . _ - : / @");
            }
        }

        return key;
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '/' or '@';
}
