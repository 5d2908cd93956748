using Cleanroom.Api.V1;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// The repository a new sandbox gets (exec and sandbox create), with what the user should know said on stderr: a
/// dirty working tree (the sandbox has the commit only) or a repository without commits.
/// </summary>
internal static class NewSandboxRepository
{
    public static async Task<RepositoryCheckout?> FindAsync(CliContext context, string? directory, CompiledPolicy? policy, CancellationToken ct)
    {
        var start = Path.GetFullPath(directory ?? ".", context.WorkingDirectory);
        var (repository, note) = await LocalRepository.FindAsync(start, policy?.Repository ?? RepositorySettings.Default, ct);
        if (note is not null)
        {
            await context.Error.WriteLineAsync("cleanroom: note: " + note);
        }

        if (repository?.DirtyWarning() is { } warning)
        {
            await context.Error.WriteLineAsync("cleanroom: warning: " + warning);
        }

        return repository?.Checkout;
    }
}
