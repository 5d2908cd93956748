using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>
/// <c>cleanroom policy validate [--json] [-c DIR] [--policy FILE]</c>: prints the path, the hash and a summary of
/// what the policy allows, or every error. Exit 0 valid, 1 invalid, 2 usage error.
/// </summary>
internal static class PolicyValidateCommand
{
    /// <summary>Runs the command, writing to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static int Run(PolicyCommandOptions options, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (PolicyCommandInput.CheckUsage(options.Directory, options.PolicyFile, stderr) is { } usage)
        {
            return usage;
        }

        var result = PolicyCommandInput.Load(options);
        if (options.Json)
        {
            stdout.WriteLine(PolicyReportJson.Validation(result));
            return result.IsValid ? PolicyExitCodes.Valid : PolicyExitCodes.Invalid;
        }

        if (result.Policy is not { } policy)
        {
            PolicyReportText.WriteFailure(result, stderr);
            return PolicyExitCodes.Invalid;
        }

        stdout.WriteLine("policy valid: " + PolicyReportText.Source(result));
        stdout.WriteLine("policy hash: " + policy.Hash);
        PolicyReportText.WriteSummary(policy, stdout);
        PolicyReportText.WriteWarnings(result, stderr);
        return PolicyExitCodes.Valid;
    }
}
