using System.CommandLine;
using Cleanroom.Oci;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// An image reference argument, checked while parsing: a malformed one is a usage error (exit 2) with the
/// parser's reason, before any daemon is contacted.
/// </summary>
internal static class ImageRefArgument
{
    public static Argument<string?> Create(string description, bool optional = false, string name = "ref")
    {
        var argument = new Argument<string?>(name)
        {
            Description = description,
            Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
        };
        argument.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && ImageReference.Parse(text, out var problem) is null)
            {
                result.AddError($"'{text}' is not a valid image reference: {problem}");
            }
        });
        return argument;
    }
}
