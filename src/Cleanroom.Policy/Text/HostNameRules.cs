using System.Globalization;

namespace Cleanroom.Policy.Text;

/// <summary>
/// Normalises a DNS host name to the one spelling used everywhere (rules, the DNS filter, the gateway):
/// lowercase, no trailing dot, internationalised labels as punycode (<c>bücher.example</c> →
/// <c>xn--bcher-kva.example</c>). Then checks it is a usable name: labels of 1–63 letters, digits, hyphens or
/// underscores, not starting or ending with a hyphen, at most 253 characters, and a last label that is not all
/// digits (so a mistyped address such as <c>10.0.0</c> is never taken for a name).
/// </summary>
internal static class HostNameRules
{
    private const int MaxNameLength = 253;
    private const int MaxLabelLength = 63;

    public static bool TryNormalize(string raw, out string normalized, out string problem)
    {
        normalized = string.Empty;
        var name = raw.Trim().ToLowerInvariant();
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        if (name.Length == 0)
        {
            problem = "the host name is empty";
            return false;
        }

        if (!name.All(char.IsAscii))
        {
            try
            {
                // Lowercased first: IdnMapping keeps case, and "BÜCHER" must encode like "bücher". A fresh mapping
                // per call because the matcher runs on many threads and this path is rare (non-ASCII names only).
                name = new IdnMapping { AllowUnassigned = false, UseStd3AsciiRules = false }.GetAscii(name);
            }
            catch (ArgumentException)
            {
                problem = "the host name is not a valid internationalised domain name";
                return false;
            }
        }

        if (name.Length > MaxNameLength)
        {
            problem = $"the host name is longer than {MaxNameLength} characters";
            return false;
        }

        var labels = name.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength)
            {
                problem = label.Length == 0
                    ? "the host name has an empty label (two dots in a row, or a leading dot)"
                    : $"a label of the host name is longer than {MaxLabelLength} characters";
                return false;
            }

            if (!label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            {
                problem = "host names may only contain letters, digits, '-', '_' and '.'";
                return false;
            }

            if (label[0] == '-' || label[^1] == '-')
            {
                problem = "a label of the host name starts or ends with '-'";
                return false;
            }
        }

        if (labels[^1].All(char.IsAsciiDigit))
        {
            problem = "the last label is all digits, so this is neither a host name nor a valid IPv4 address";
            return false;
        }

        normalized = name;
        problem = string.Empty;
        return true;
    }
}
