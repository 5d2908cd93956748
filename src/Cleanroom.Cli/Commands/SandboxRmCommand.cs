using System.CommandLine;
using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom sandbox rm ID...</c>: terminates sandboxes, going on past ones that fail.</summary>
internal sealed class SandboxRmCommand : Command
{
    private readonly Argument<string[]> _ids = new("id") { Description = "Sandbox ids", Arity = ArgumentArity.OneOrMore };
    private readonly JsonOption _json = new();

    public SandboxRmCommand(CliContext context, DaemonAccess daemon)
        : base("rm", "Terminate sandboxes and remove their VMs and disks")
    {
        Aliases.Add("terminate");
        Arguments.Add(_ids);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, connection =>
            EachTarget.RunAsync(
                context,
                connection,
                parse.GetValue(_ids)!,
                parse.GetValue(_json),
                id => connection.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id }, cancellationToken: cancellationToken).ResponseAsync,
                response => $"removed {response.SandboxId}"), cancellationToken));
    }
}
