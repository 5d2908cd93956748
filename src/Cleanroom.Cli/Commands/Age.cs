using System.CommandLine.Parsing;
using System.Globalization;

namespace Cleanroom.Cli.Commands;

/// <summary>Ages such as <c>90m</c>, <c>12h</c>, <c>7d</c> or <c>2w</c>: a positive whole number and one unit.</summary>
internal static class Age
{
    /// <summary>The longest age accepted: a century (the daemon's bound too).</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(36_500);

    public static bool TryParse(string text, out TimeSpan age)
    {
        age = default;
        if (text.Length < 2
            || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number <= 0 || number > (long)Max.TotalMinutes)
        {
            return false;
        }

        TimeSpan? parsed = text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(number),
            'h' => TimeSpan.FromHours(Math.Min(number, (long)Max.TotalHours + 1)),
            'd' => TimeSpan.FromDays(Math.Min(number, (long)Max.TotalDays + 1)),
            'w' => TimeSpan.FromDays(7 * Math.Min(number, (long)Max.TotalDays + 1)),
            _ => null,
        };
        if (parsed is not { } value || value > Max)
        {
            return false;
        }

        age = value;
        return true;
    }

    /// <summary>The option parser: the age, or an error naming the option and the accepted forms.</summary>
    public static TimeSpan? Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (TryParse(text, out var age))
        {
            return age;
        }

        result.AddError($"--older-than takes an age such as 90m, 12h, 7d or 2w, up to 100 years (got '{text}')");
        return null;
    }
}
