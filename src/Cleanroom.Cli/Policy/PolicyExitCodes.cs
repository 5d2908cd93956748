using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>Exit codes of the <c>cleanroom policy</c> commands.</summary>
internal static class PolicyExitCodes
{
    /// <summary>The policy is valid (or the command succeeded).</summary>
    public const int Valid = 0;

    /// <summary>The policy is invalid, missing, or the command could not do its job.</summary>
    public const int Invalid = 1;

    /// <summary>The command line was wrong: a directory or an explicit policy file that does not exist.</summary>
    public const int Usage = 2;
}
