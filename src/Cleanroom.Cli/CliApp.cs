using System.CommandLine;
using Cleanroom.Cli.Commands;

namespace Cleanroom.Cli;

/// <summary>The CLI's entry logic: builds the command tree, parses, and runs the chosen command.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var parse = Parse(args, context);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                context.Complain(error.Message);
            }

            context.Complain($"run '{CommandPath(parse)} --help' for usage");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // Interrupts are ours to handle (exec forwards the first Ctrl-C to the guest), so System.CommandLine
            // must not install its own handler that ends the process after a timeout.
            ProcessTerminationTimeout = null,
        }, context.Interrupts.Token);
    }

    internal static ParseResult Parse(IReadOnlyList<string> args, CliContext context) =>
        // '@file' expansion stays off: guest command lines routinely contain '@' arguments.
        BuildRoot(context).Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    internal static RootCommand BuildRoot(CliContext context)
    {
        var host = new HostOption();
        var tls = new TlsOptions();
        var daemon = new DaemonAccess(context, host, tls);
        var root = new RootCommand("Cleanroom: run CI jobs in Linux microVMs. All commands talk to the daemon ('cleanroom serve').")
        {
            host,
            new SandboxCommand(context, daemon),
            new ExecCommand(context, daemon),
            new CpCommand(context, daemon),
            new ExecutionCommand(context, daemon),
            new StatusCommand(context, daemon),
            new WorkspaceCommand(context, daemon),
            new ImageCommand(context, daemon),
            new CacheCommand(context, daemon),
            new VersionCommand(context, daemon),
            new DoctorCommand(context, daemon),
            new PolicyCommands(context),
        };
        // The daemon runs on Linux only (QEMU/KVM); the client commands work anywhere that can reach one.
        if (OperatingSystem.IsLinux())
        {
            root.Add(new ServeCommand(context, tls));
        }

        tls.AddTo(root);

        return root;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command is RootCommand ? "cleanroom" : result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
