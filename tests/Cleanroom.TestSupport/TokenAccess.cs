namespace Cleanroom.TestSupport;

/// <summary>One entry of a registry token's <c>access</c> claim, e.g. repository <c>a/b</c> with pull and push.</summary>
public sealed record TokenAccess(string Type, string Name, IReadOnlyList<string> Actions)
{
    /// <summary>
    /// Parses a scope, <c>type:name:action[,action…]</c> (the name may itself hold colons, e.g. a registry with a
    /// port in a plugin scope), or returns null when it is not one.
    /// </summary>
    public static TokenAccess? ParseScope(string scope)
    {
        var first = scope.IndexOf(':', StringComparison.Ordinal);
        var last = scope.LastIndexOf(':');
        if (first <= 0 || last <= first)
        {
            return null;
        }

        var actions = scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new TokenAccess(scope[..first], scope[(first + 1)..last], actions);
    }
}
