using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Cleanroom.Client;
using Grpc.Core;

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
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var exitCode = ExitCodes.Success;
            foreach (var id in parse.GetValue(_ids)!.Distinct(StringComparer.Ordinal))
            {
                TerminateSandboxResponse response;
                try
                {
                    response = await connection.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id }, cancellationToken: cancellationToken);
                }
                catch (RpcException ex) when (!DaemonErrors.IsUnreachable(ex) && ex.StatusCode != StatusCode.Cancelled)
                {
                    context.Complain($"{id}: {DaemonErrors.Describe(ex, connection.Endpoint)}");
                    exitCode = ExitCodes.Failure;
                    continue;
                }

                if (parse.GetValue(_json))
                {
                    JsonOutput.Write(context.Out, response);
                }
                else
                {
                    context.Out.WriteLine($"removed {response.SandboxId}");
                }
            }

            return exitCode;
        }, cancellationToken));
    }
}
