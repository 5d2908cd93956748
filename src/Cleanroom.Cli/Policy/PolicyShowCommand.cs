using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>
/// <c>cleanroom policy show [--json] [-c DIR] [--policy FILE]</c>: prints the compiled policy. With <c>--json</c>
/// the output is the exact payload sent to the daemon (indented), which <see cref="CompiledPolicy.FromJson"/> reads.
/// </summary>
internal static class PolicyShowCommand
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
        if (result.Policy is not { } policy)
        {
            if (options.Json)
            {
                stdout.WriteLine(PolicyReportJson.Validation(result));
            }
            else
            {
                PolicyReportText.WriteFailure(result, stderr);
            }

            return PolicyExitCodes.Invalid;
        }

        if (options.Json)
        {
            stdout.WriteLine(PolicyReportJson.Indent(policy.ToJson()));
        }
        else
        {
            stdout.WriteLine("source: " + PolicyReportText.Source(result));
            stdout.WriteLine("hash: " + policy.Hash);
            PolicyReportText.WriteSummary(policy, stdout);
            PolicyReportText.WriteBlocks(policy, stdout);
        }

        PolicyReportText.WriteWarnings(result, stderr);
        return PolicyExitCodes.Valid;
    }
}
