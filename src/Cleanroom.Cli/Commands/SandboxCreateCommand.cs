using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Images;
using Cleanroom.Cli.Policy;
using Cleanroom.Cli.Rendering;
using Cleanroom.Cli.Workspaces;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom sandbox create</c>: boots a sandbox and prints its id (only the id, for scripts).</summary>
internal sealed class SandboxCreateCommand : Command
{
    private readonly Option<string?> _image = new("--image") { Description = "Image to boot (default: the daemon's default image)", HelpName = "ref" };
    private readonly Option<int> _vcpus = new("--vcpus") { Description = "Virtual CPUs (default: the daemon's default)", HelpName = "n" };
    private readonly Option<int> _memory = new("--memory") { Description = "Memory in MiB (default: the daemon's default)", HelpName = "mib" };
    private readonly Option<string?> _chdir = new("--chdir", "-c") { Description = "Repository directory whose cleanroom.yaml applies (default: the current directory)", HelpName = "dir" };
    private readonly Option<string?> _policy = new("--policy") { Description = "Policy file to use instead of discovering cleanroom.yaml", HelpName = "file" };
    private readonly FlagOption _allowAll = new("--dangerously-allow-all", "Turn egress filtering off (link-local, loopback and other sandboxes stay blocked; DNS is still audited)");
    private readonly RepositoryOptions _repository = new();
    private readonly JsonOption _json = new();

    public SandboxCreateCommand(CliContext context, DaemonAccess daemon)
        : base("create", "Create a sandbox and print its id")
    {
        _vcpus.Validators.Add(result => NotNegative(result, "--vcpus"));
        _memory.Validators.Add(result => NotNegative(result, "--memory"));
        Options.Add(_image);
        Options.Add(_vcpus);
        Options.Add(_memory);
        Options.Add(_chdir);
        Options.Add(_policy);
        Options.Add(_allowAll);
        _repository.AddTo(this);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            // The repository's policy applies as it does for exec: later `exec --in` calls run under it.
            var allowAll = parse.GetValue(_allowAll);
            var (ok, policy) = await NewSandboxPolicy.LoadAsync(context, parse.GetValue(_chdir), parse.GetValue(_policy), allowAll);
            if (!ok)
            {
                return ExitCodes.Failure;
            }

            var repository = await _repository.ResolveAsync(parse, context, parse.GetValue(_chdir), policy, cancellationToken);

            // Pulled first so a download shows its progress (on stderr: stdout is only the id).
            var image = parse.GetValue(_image) ?? policy?.Image.Reference;
            await ImagePull.PullForSandboxAsync(connection, context, image, cancellationToken);
            var response = await connection.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest
            {
                ImageRef = parse.GetValue(_image) ?? "",
                Options = new SandboxOptions { Vcpus = parse.GetValue(_vcpus), MemoryMib = parse.GetValue(_memory) },
                CompiledPolicy = policy?.ToJson() ?? "",
                DangerouslyAllowAll = allowAll,
                RepositoryCheckout = repository,
            }, cancellationToken: cancellationToken);
            await _repository.WarnedAsync();
            foreach (var warning in response.Warnings)
            {
                await context.Error.WriteLineAsync("cleanroom: warning: " + warning);
            }

            if (repository is not null && _repository.CopyIn(parse))
            {
                await CopyInOrRemoveAsync(context, connection, response.Sandbox.SandboxId, repository, cancellationToken);
            }

            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response.Sandbox);
            }
            else
            {
                context.Out.WriteLine(response.Sandbox.SandboxId);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }

    /// <summary>Copies the local changes in; a sandbox that did not get them is removed, so no half-made one is left.</summary>
    private static async Task CopyInOrRemoveAsync(CliContext context, Client.DaemonConnection connection, string sandboxId, RepositoryCheckout repository, CancellationToken ct)
    {
        try
        {
            var count = await WorkspaceTransfer.CopyInAsync(connection, sandboxId, repository.LocalPath, repository.Commit, ct);
            await context.Error.WriteLineAsync($"cleanroom: copied {count} local change{(count == 1 ? "" : "s")} into the sandbox");
        }
        catch
        {
            await connection.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandboxId }, cancellationToken: CancellationToken.None);
            throw;
        }
    }

    private static void NotNegative(System.CommandLine.Parsing.OptionResult result, string name)
    {
        // Read the token, not the value: a non-number already has its own error, and GetValue would throw on it.
        if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, out var value) && value < 0)
        {
            result.AddError($"{name} must not be negative");
        }
    }
}
