using System.CommandLine;
using Cleanroom.Cli.Images;
using Cleanroom.Cli.Policy;
using Cleanroom.Cli.Workspaces;
using Cleanroom.Client.Exec;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom exec [options] -- CMD...</c>: runs a command in a new sandbox (removed afterwards unless
/// <c>--keep</c>) or in an existing one (<c>--in</c>), and exits with the command's exit code.
/// </summary>
internal sealed class ExecCommand : Command
{
    private readonly Option<string?> _in = new("--in", "--sandbox-id") { Description = "Run in this existing sandbox (it is never removed)", HelpName = "id" };
    private readonly FlagOption _keep = new("--keep", "Keep the sandbox this exec creates");
    private readonly Option<string?> _image = new("--image") { Description = "Image for the new sandbox (default: the daemon's default image)", HelpName = "ref" };
    private readonly Option<string[]> _env = new("--env", "-e") { Description = "Set KEY=VALUE, or pass KEY from this environment", HelpName = "KEY[=VALUE]" };
    private readonly Option<string?> _cwd = new("--cwd", "-w") { Description = "Working directory in the guest", HelpName = "dir" };
    private readonly Option<string?> _user = new("--user", "-u") { Description = "User to run as in the guest", HelpName = "user" };
    private readonly FlagOption _tty = new("--tty", "Run on a pseudo-terminal (stdout and stderr are merged)", "-t");
    private readonly FlagOption _noStdin = new("--no-stdin", "Do not forward stdin (it is forwarded when it is not a terminal or /dev/null)", "-n");
    private readonly FlagOption _printSandboxId = new("--print-sandbox-id", "Write sandbox_id=<id> to stderr once the sandbox is created");
    private readonly Option<string?> _chdir = new("--chdir", "-c") { Description = "Repository directory whose cleanroom.yaml applies (default: the current directory)", HelpName = "dir" };
    private readonly Option<string?> _policy = new("--policy") { Description = "Policy file to use instead of discovering cleanroom.yaml", HelpName = "file" };
    private readonly FlagOption _allowAll = new("--dangerously-allow-all", "Turn egress filtering off for the new sandbox (link-local, loopback and other sandboxes stay blocked; DNS is still audited)");
    private readonly RepositoryOptions _repository = new();
    private readonly FlagOption _copyOut = new("--copy-out", "After the command, copy the sandbox's changes in its workspace back into the local working tree (refused on local edits made meanwhile unless --force)");
    private readonly FlagOption _sync = new("--sync", "--copy-in and --copy-out together");
    private readonly FlagOption _force = new("--force", "With --copy-out: overwrite local edits made while the command ran");
    private readonly Argument<string[]> _command = new("command") { Description = "The command and its arguments, after '--'", Arity = ArgumentArity.OneOrMore };

    public ExecCommand(CliContext context, DaemonAccess daemon)
        : base("exec", "Run a command in a sandbox and exit with its exit code")
    {
        _env.Validators.Add(result =>
        {
            foreach (var entry in result.GetValueOrDefault<string[]>() ?? [])
            {
                var name = entry.Split('=', 2)[0];
                if (!EnvironmentEntries.IsValidName(name))
                {
                    result.AddError($"invalid environment entry '{entry}': expected KEY=VALUE or KEY");
                }
            }
        });
        Options.Add(_in);
        Options.Add(_keep);
        Options.Add(_image);
        Options.Add(_env);
        Options.Add(_cwd);
        Options.Add(_user);
        Options.Add(_tty);
        Options.Add(_noStdin);
        Options.Add(_printSandboxId);
        Options.Add(_chdir);
        Options.Add(_policy);
        Options.Add(_allowAll);
        _repository.AddTo(this);
        Options.Add(_copyOut);
        Options.Add(_sync);
        Options.Add(_force);
        Arguments.Add(_command);
        Validators.Add(result =>
        {
            try
            {
                ValidateCombinations(result);
            }
            catch (InvalidOperationException)
            {
                // An option given without its value (`--in --`) cannot be read here; the parser reports it itself.
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var spec = BuildSpec(parse, context);
            if (spec.SandboxId is null)
            {
                // A new sandbox gets the repository's policy, compiled here and re-validated by the daemon.
                var allowAll = parse.GetValue(_allowAll);
                var (ok, policy) = await NewSandboxPolicy.LoadAsync(context, parse.GetValue(_chdir), parse.GetValue(_policy), allowAll);
                if (!ok)
                {
                    return ExitCodes.Failure;
                }

                var sync = parse.GetValue(_sync);
                var repository = await _repository.ResolveAsync(parse, context, parse.GetValue(_chdir), policy, cancellationToken, copyIn: sync);
                spec = spec with { CompiledPolicy = policy?.ToJson(), DangerouslyAllowAll = allowAll, Repository = repository };

                // The daemon boots the flag's image, else the policy's; pulling it first shows a download's progress.
                var image = !string.IsNullOrWhiteSpace(spec.ImageRef) ? spec.ImageRef : policy?.Image.Reference;
                await ImagePull.PullForSandboxAsync(connection, context, image, cancellationToken);
            }

            var printSandboxId = parse.GetValue(_printSandboxId);
            var copies = new ExecWorkspaceCopies(
                connection,
                context,
                spec.Repository,
                copyIn: spec.Repository is not null && (_repository.CopyIn(parse) || parse.GetValue(_sync)),
                copyOut: parse.GetValue(_copyOut) || parse.GetValue(_sync),
                force: parse.GetValue(_force));
            var result = await new ExecRunner(connection).RunAsync(
                spec,
                new ExecIo { Stdout = context.Stdout, Stderr = context.Stderr, StdoutFile = context.StdoutFile, StderrFile = context.StderrFile, Stdin = context.Stdin },
                new ExecEvents
                {
                    SandboxCreated = id =>
                    {
                        if (printSandboxId)
                        {
                            context.Error.WriteLine($"sandbox_id={id}");
                        }
                    },
                    Notice = context.Complain,
                    Prepare = async (id, ct) =>
                    {
                        // The dirty-tree warning, counted while the sandbox was created, comes before any output.
                        await _repository.WarnedAsync();
                        return await copies.PrepareAsync(id, ct);
                    },
                    Finish = copies.FinishAsync,
                },
                context.Interrupts);
            return copies.Failed && result.ExitCode == 0 ? ExitCodes.Failure : result.ExitCode;
        }, cancellationToken));
    }

    /// <summary>Options that cannot go together (each error names them).</summary>
    private void ValidateCombinations(System.CommandLine.Parsing.CommandResult result)
    {
        if (result.GetValue(_in) is not null && result.GetValue(_image) is not null)
        {
            result.AddError("--image applies to a new sandbox; it cannot be combined with --in");
        }

        if (result.GetValue(_in) is not null && (result.GetValue(_chdir) is not null || result.GetValue(_policy) is not null || result.GetValue(_allowAll) || _repository.IsGiven(result)))
        {
            result.AddError("--chdir, --policy, --repo-url and --dangerously-allow-all apply to a new sandbox; they cannot be combined with --in");
        }

        if (result.GetValue(_in) is not null && (result.GetValue(_copyOut) || result.GetValue(_sync)))
        {
            result.AddError("--copy-out and --sync apply to the sandbox this exec creates; for an existing one use 'cleanroom workspace copy-out ID'");
        }

        if (result.GetValue(_force) && !result.GetValue(_copyOut) && !result.GetValue(_sync))
        {
            result.AddError("--force applies to --copy-out (or --sync)");
        }

        if (result.GetValue(_tty) && result.GetValue(_noStdin))
        {
            result.AddError("--tty and --no-stdin cannot be combined");
        }
    }

    /// <summary>The exec request a parsed command line stands for.</summary>
    internal ExecSpec BuildSpec(ParseResult parse, CliContext context)
    {
        var tty = parse.GetValue(_tty);
        return new ExecSpec
        {
            Command = parse.GetValue(_command)!,
            SandboxId = parse.GetValue(_in),
            Keep = parse.GetValue(_keep),
            ImageRef = parse.GetValue(_image),
            Environment = EnvironmentEntries.Expand(parse.GetValue(_env) ?? [], context.Environment),
            WorkingDirectory = parse.GetValue(_cwd),
            User = parse.GetValue(_user),
            Tty = tty,
            Columns = tty ? context.TerminalColumns : 0,
            Rows = tty ? context.TerminalRows : 0,
            // A terminal on stdin means a person typing, not input for the command; forwarding it would leave the
            // command waiting for an end of file that never comes. /dev/null has nothing to forward: unattached, the
            // command reads end of file at once just the same, without a forwarding call per exec.
            AttachStdin = !context.StdinIsTerminal && !context.StdinIsNull && !parse.GetValue(_noStdin),
        };
    }
}
