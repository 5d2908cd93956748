using System.Buffers;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// What a cached entry is looked up by: <c>protocol|kind|key</c>, e.g. <c>npm|tarball|left-pad/-/left-pad-1.3.0.tgz</c>
/// or <c>oci|tag|registry.example/app:latest</c>. Keys come from guest requests, so all three parts are bounded and
/// the protocol and kind are plain names (they cannot hold <c>|</c>, so the joined form is unambiguous).
/// </summary>
public sealed record CacheKey
{
    /// <summary>Longest protocol or kind name.</summary>
    public const int MaxNameLength = 32;

    /// <summary>Longest key, in characters.</summary>
    public const int MaxKeyLength = 2048;

    private static readonly SearchValues<char> NameCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <param name="protocol">The route family (<c>git</c>, <c>oci</c>, <c>npm</c>…): lowercase letters, digits, <c>._-</c>.</param>
    /// <param name="kind">What sort of object within the protocol (<c>manifest</c>, <c>blob</c>, <c>packument</c>…): same characters.</param>
    /// <param name="key">The object's name within the kind: 1 to <see cref="MaxKeyLength"/> characters, no control characters.</param>
    /// <exception cref="ArgumentException">A part is empty, too long or has a character it may not.</exception>
    public CacheKey(string protocol, string kind, string key)
    {
        Protocol = CheckName(protocol, nameof(protocol));
        Kind = CheckName(kind, nameof(kind));
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is 0 or > MaxKeyLength)
        {
            throw new ArgumentException($"a cache key is 1 to {MaxKeyLength} characters, not {key.Length}", nameof(key));
        }

        foreach (var c in key)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"a cache key may not hold control characters (found U+{(int)c:X4})", nameof(key));
            }
        }

        Key = key;
    }

    /// <summary>The route family.</summary>
    public string Protocol { get; }

    /// <summary>The sort of object within the protocol.</summary>
    public string Kind { get; }

    /// <summary>The object's name within the kind.</summary>
    public string Key { get; }

    /// <summary>True when <paramref name="name"/> is a valid protocol or kind (1 to 32 of <c>a-z 0-9 . _ -</c>).</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && !name.AsSpan().ContainsAnyExcept(NameCharacters);

    /// <summary><c>protocol|kind|key</c>.</summary>
    public override string ToString() => $"{Protocol}|{Kind}|{Key}";

    private static string CheckName(string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"a cache {parameter} is 1 to {MaxNameLength} characters of a-z, 0-9, '.', '_', '-'", parameter);
        }

        return name;
    }
}
