using Cleanroom.Api.V1;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// The repository a new sandbox gets (exec and sandbox create), with what the user should know said on stderr: a
/// dirty working tree (the sandbox has the commit only) or a repository without commits.
/// </summary>
internal static class NewSandboxRepository
{
    /// <param name="copyIn">The local changes will be copied in, so a dirty tree is no news.</param>
    /// <returns>
    /// The checkout, and the dirty-tree warning still to come: counting the changes walks the whole working tree
    /// (160 ms for 50,000 files), so it runs while the sandbox is created and is said before the command's output.
    /// </returns>
    public static async Task<(RepositoryCheckout? Checkout, Task Warned)> FindAsync(
        CliContext context, string? directory, CompiledPolicy? policy, bool copyIn, CancellationToken ct)
    {
        var start = Path.GetFullPath(directory ?? ".", context.WorkingDirectory);
        var (repository, note) = await LocalRepository.FindAsync(start, policy?.Repository ?? RepositorySettings.Default, countChanges: !copyIn, ct);
        if (note is not null)
        {
            await context.Error.WriteLineAsync("cleanroom: note: " + note);
        }

        return (repository?.Checkout, !copyIn && repository is not null ? WarnAsync(context, repository) : Task.CompletedTask);
    }

    private static async Task WarnAsync(CliContext context, LocalRepository repository)
    {
        if (await repository.DirtyWarningAsync() is { } warning)
        {
            await context.Error.WriteLineAsync("cleanroom: warning: " + warning);
        }
    }
}
