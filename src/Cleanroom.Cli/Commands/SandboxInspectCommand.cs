using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary><c>cleanroom sandbox inspect ID|--last</c>: one sandbox as <c>key: value</c> lines.</summary>
internal sealed class SandboxInspectCommand : Command
{
    private readonly Argument<string?> _id = new("id") { Description = "Sandbox id", Arity = ArgumentArity.ZeroOrOne };
    private readonly FlagOption _last = new("--last", "The most recently created sandbox", "-l");
    private readonly JsonOption _json = new();

    public SandboxInspectCommand(CliContext context, DaemonAccess daemon)
        : base("inspect", "Show one sandbox")
    {
        Aliases.Add("show");
        Arguments.Add(_id);
        Options.Add(_last);
        Options.Add(_json);
        Validators.Add(result =>
        {
            var hasId = result.GetValue(_id) is not null;
            var last = result.GetValue(_last);
            if (hasId == last)
            {
                result.AddError(hasId ? "give a sandbox id or --last, not both" : "give a sandbox id or --last");
            }
        });
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            Sandbox? sandbox;
            if (parse.GetValue(_last))
            {
                var newest = await connection.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true, Limit = 1 }, cancellationToken: cancellationToken);
                sandbox = newest.Sandboxes.MaxBy(s => s.CreatedAt);
                if (sandbox is null)
                {
                    context.Complain("there are no sandboxes");
                    return ExitCodes.Failure;
                }
            }
            else
            {
                var response = await connection.Sandboxes.GetSandboxAsync(
                    new GetSandboxRequest { SandboxId = parse.GetValue(_id)! }, cancellationToken: cancellationToken);
                sandbox = response.Sandbox;
            }

            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, sandbox);
            }
            else
            {
                SandboxViews.WriteInspect(context.Out, sandbox);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
