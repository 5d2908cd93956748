using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Workspaces;
using Cleanroom.Client;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// What the workspace commands share: the sandbox id argument, <c>-c/--chdir</c>, and finding both ends (the
/// sandbox's workspace and the local working tree around the directory).
/// </summary>
internal sealed class WorkspaceTarget
{
    private readonly Argument<string> _id = new("sandbox-id") { Description = "The sandbox (created in a git repository)" };
    private readonly Option<string?> _chdir = new("--chdir", "-c") { Description = "The local working tree (default: the one around the current directory)", HelpName = "dir" };

    public void AddTo(Command command)
    {
        command.Arguments.Add(_id);
        command.Options.Add(_chdir);
    }

    /// <summary>The sandbox id and local working tree's root, or null after saying what is missing.</summary>
    public async Task<(string SandboxId, SandboxWorkspace Workspace, string Root)?> ResolveAsync(ParseResult parse, CliContext context, DaemonConnection connection, CancellationToken ct)
    {
        var id = parse.GetValue(_id)!;
        var sandbox = (await connection.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = id }, cancellationToken: ct)).Sandbox;
        if (sandbox.Workspace is null)
        {
            context.Complain($"sandbox {id} has no workspace: it was not created in a git repository (or its policy turns the checkout off)");
            return null;
        }

        var start = Path.GetFullPath(parse.GetValue(_chdir) ?? ".", context.WorkingDirectory);
        if (await LocalRepository.FindRootAsync(start, ct) is not { } root)
        {
            context.Complain($"{start} is not in a git working tree; run this in the repository the sandbox was created from (or give --chdir)");
            return null;
        }

        return (id, sandbox.Workspace, root);
    }
}
