using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Commands;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// <c>--repo-url URL [--repo-commit REV]</c>, shared by exec and sandbox create: a repository that is not checked out
/// here, fetched by the daemon with the host's credentials. Without them the repository around the working directory
/// (or <c>--chdir</c>) is checked out at HEAD.
/// </summary>
internal sealed class RepositoryOptions
{
    private readonly Option<string?> _url = new("--repo-url") { Description = "Check out this remote repository instead of the local one (the daemon fetches it with the host's git credentials)", HelpName = "url" };
    private readonly Option<string?> _commit = new("--repo-commit") { Description = "Branch, tag or commit of --repo-url to check out (default: its default branch)", HelpName = "rev" };
    private readonly FlagOption _copyIn = new("--copy-in", "Also copy the local uncommitted changes (edits, deletions, renames, mode changes, untracked files git does not ignore) into the sandbox's workspace");
    private Task _warned = Task.CompletedTask;

    public void AddTo(Command command)
    {
        command.Options.Add(_url);
        command.Options.Add(_commit);
        command.Options.Add(_copyIn);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_commit) is not null && result.GetValue(_url) is null)
            {
                result.AddError("--repo-commit needs --repo-url (a local repository is checked out at its HEAD)");
            }

            if (result.GetValue(_copyIn) && result.GetValue(_url) is not null)
            {
                result.AddError("--copy-in copies local changes, and --repo-url has no local working tree");
            }
        });
    }

    /// <summary>--copy-in was given (after a successful resolve, <see cref="ResolveAsync"/> returned a local checkout).</summary>
    public bool CopyIn(ParseResult parse) => parse.GetValue(_copyIn);

    /// <summary>
    /// Completes once any warning about the local repository found by <see cref="ResolveAsync"/> (a dirty working
    /// tree) is said; await it before the command's own output, after starting the sandbox.
    /// </summary>
    public Task WarnedAsync() => _warned;

    /// <summary>True when the command line names a repository (so it cannot be combined with <c>--in</c>).</summary>
    public bool IsGiven(System.CommandLine.Parsing.CommandResult result) => result.GetValue(_url) is not null || result.GetValue(_copyIn);

    /// <summary>The checkout to ask for: the URL's, else the local repository's (warnings said on stderr), else none.</summary>
    /// <param name="copyIn">Copy-in asked for by another flag (exec's --sync).</param>
    public async Task<RepositoryCheckout?> ResolveAsync(ParseResult parse, CliContext context, string? directory, CompiledPolicy? policy, CancellationToken ct, bool copyIn = false)
    {
        copyIn |= CopyIn(parse);
        if (parse.GetValue(_url) is { } url)
        {
            if (policy is { Repository.Enabled: false })
            {
                // Refused, not ignored: the user asked for a checkout the policy forbids.
                throw new Cleanroom.Workspaces.WorkspaceException(Cleanroom.Workspaces.WorkspaceErrorKind.NotARepository, "--repo-url asks for a checkout, but the policy turns it off (repository.enabled: false or mode: none)");
            }

            return new RepositoryCheckout { Url = url, Commit = parse.GetValue(_commit) ?? "" };
        }

        (var checkout, _warned) = await NewSandboxRepository.FindAsync(context, directory, policy, copyIn, ct);
        if (checkout is null && copyIn)
        {
            throw new Cleanroom.Workspaces.WorkspaceException(Cleanroom.Workspaces.WorkspaceErrorKind.NotARepository, "--copy-in needs a git repository with a commit here (or at --chdir), and a policy that checks it out");
        }

        return checkout;
    }
}
