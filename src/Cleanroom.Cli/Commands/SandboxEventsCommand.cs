using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Grpc.Core;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom sandbox events ID [--follow] [--json]</c>: the sandbox's status changes and every blocked DNS query
/// or connection, oldest first; with <c>--follow</c>, new ones as they happen until the sandbox stops.
/// </summary>
internal sealed class SandboxEventsCommand : Command
{
    private readonly Argument<string> _id = new("id") { Description = "Sandbox id" };
    private readonly FlagOption _follow = new("--follow", "Keep printing new events until the sandbox stops", "-f");
    private readonly JsonOption _json = new();

    public SandboxEventsCommand(CliContext context, DaemonAccess daemon)
        : base("events", "Show a sandbox's events: status changes and blocked egress")
    {
        Arguments.Add(_id);
        Options.Add(_follow);
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var json = parse.GetValue(_json);
            using var call = connection.Sandboxes.StreamSandboxEvents(
                new StreamSandboxEventsRequest { SandboxId = parse.GetValue(_id)!, Follow = parse.GetValue(_follow) },
                cancellationToken: cancellationToken);
            await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (json)
                {
                    JsonOutput.Write(context.Out, e);
                }
                else
                {
                    await context.Out.WriteLineAsync(SandboxViews.EventLine(e));
                }

                await context.Out.FlushAsync(cancellationToken);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
