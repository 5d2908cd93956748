using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>Usage checks and loading shared by the policy commands.</summary>
internal static class PolicyCommandInput
{
    /// <summary>Returns <see cref="PolicyExitCodes.Usage"/> (after saying why) when a named path does not exist.</summary>
    public static int? CheckUsage(string? directory, string? policyFile, TextWriter stderr)
    {
        if (directory is not null && !Directory.Exists(directory))
        {
            stderr.WriteLine($"error: directory {directory} does not exist (-c/--chdir)");
            return PolicyExitCodes.Usage;
        }

        if (policyFile is not null)
        {
            // Anything at the path counts (a link, a FIFO): the loader refuses it with an error that says what it is.
            if (!PolicyDiscovery.Discover(directory ?? Environment.CurrentDirectory, policyFile).Found)
            {
                stderr.WriteLine($"error: policy file {policyFile} does not exist (--policy)");
                return PolicyExitCodes.Usage;
            }
        }

        return null;
    }

    public static PolicyLoadResult Load(PolicyCommandOptions options) =>
        PolicyLoader.Load(new PolicyLoadOptions { Directory = options.Directory, PolicyFile = options.PolicyFile });
}
