using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>
/// The policy a new sandbox gets (exec and sandbox create): the repository's cleanroom.yaml (or <c>--policy</c>),
/// compiled here and re-validated by the daemon; with <c>--dangerously-allow-all</c>, its network default becomes
/// allow. An invalid policy is reported and stops the command.
/// </summary>
internal static class NewSandboxPolicy
{
    /// <summary>The compiled policy JSON ("" for none), or null after reporting why the policy is invalid.</summary>
    public static async Task<(bool Ok, CompiledPolicy? Policy)> LoadAsync(CliContext context, string? directory, string? policyFile, bool allowAll)
    {
        var loaded = PolicyLoader.Load(new PolicyLoadOptions { Directory = directory, PolicyFile = policyFile });
        if (loaded.SourcePath is not null && loaded.Policy is null)
        {
            await context.Error.WriteLineAsync($"cleanroom: policy {loaded.SourcePath} is invalid:");
            foreach (var error in loaded.Errors)
            {
                await context.Error.WriteLineAsync("  " + error);
            }

            return (false, null);
        }

        var policy = loaded.Policy;
        if (allowAll && policy is not null)
        {
            policy = policy.WithNetworkDefault(NetworkDefault.Allow);
        }

        if (allowAll)
        {
            await context.Error.WriteLineAsync("cleanroom: --dangerously-allow-all: this sandbox may reach any destination except link-local, loopback and other sandboxes; its DNS queries are still audited");
        }

        return (true, policy);
    }
}
