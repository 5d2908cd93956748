using System.Text;

namespace Cleanroom.Policy;

/// <summary>Maps <see cref="PolicyErrorKind"/> to its snake_case name and its API <see cref="ReasonCode"/>.</summary>
public static class PolicyErrorKindNames
{
    /// <summary><c>UrlNotHost</c> → <c>url_not_host</c>, <c>Ipv6Shorthand</c> → <c>ipv6_shorthand</c>.</summary>
    public static string ToSnakeCase(this PolicyErrorKind kind)
    {
        var name = kind.ToString();
        var text = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && !char.IsUpper(name[i - 1]))
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }

    /// <summary>Contradictions between parts of a policy are conflicts; everything else makes it invalid.</summary>
    public static ReasonCode ToReasonCode(this PolicyErrorKind kind) => kind switch
    {
        PolicyErrorKind.ShadowedRule
            or PolicyErrorKind.DuplicateBlockName
            or PolicyErrorKind.OverlappingOutput
            or PolicyErrorKind.DefaultAllowNotPermitted => ReasonCode.PolicyConflict,
        _ => ReasonCode.PolicyInvalid,
    };
}
