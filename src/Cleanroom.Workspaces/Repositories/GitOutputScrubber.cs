using System.Text.RegularExpressions;

namespace Cleanroom.Workspaces.Repositories;

/// <summary>
/// Removes credentials from git's output before it is put into an exception, a log or a record: user-info in URLs,
/// authorization-style header lines and scheme tokens, and every secret-looking value of the host git environment
/// the store was configured with. git rarely prints these itself, but a trace variable, a verbose helper or a server
/// message can, and the caller shows these messages to users.
/// </summary>
internal sealed partial class GitOutputScrubber
{
    private const string Mask = "***";

    /// <summary>Shorter values would mask ordinary words; a real token or password is longer.</summary>
    private const int MinSecretLength = 6;

    private readonly string[] _secrets;

    /// <param name="environment">The host git environment: every value (and each word of one) is treated as secret.</param>
    public GitOutputScrubber(IReadOnlyDictionary<string, string> environment)
    {
        _secrets = [.. environment
            .Where(pair => !IsPlainConfigVariable(pair.Key))
            .SelectMany(pair => new[] { pair.Value }.Concat(pair.Value.Split([' ', '\t', ':', '='], StringSplitOptions.RemoveEmptyEntries)))
            .Where(value => value.Length >= MinSecretLength)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(value => value.Length)];
    }

    /// <summary><paramref name="text"/> with everything that may be a credential replaced by <c>***</c>.</summary>
    public string Scrub(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        text = UserInfo().Replace(text, "$1" + Mask + "@");
        text = HeaderLine().Replace(text, "$1 " + Mask);
        return SchemeToken().Replace(text, "$1 " + Mask);
    }

    /// <summary>Names and counts, not values: <c>GIT_CONFIG_KEY_0=http.extraHeader</c> says which setting, not what.</summary>
    private static bool IsPlainConfigVariable(string name) =>
        name == "GIT_CONFIG_COUNT" || name.StartsWith("GIT_CONFIG_KEY_", StringComparison.Ordinal);

    [GeneratedRegex(@"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")]
    private static partial Regex UserInfo();

    [GeneratedRegex(@"(?im)\b((?:proxy-)?authorization|cookie|set-cookie|private-token|[a-z-]*token)\s*[:=].*$")]
    private static partial Regex HeaderLine();

    [GeneratedRegex(@"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}")]
    private static partial Regex SchemeToken();
}
