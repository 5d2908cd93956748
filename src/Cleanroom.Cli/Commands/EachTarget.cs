using Cleanroom.Cli.Rendering;
using Cleanroom.Client;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// The shape of commands that act on several named things (<c>sandbox rm A B</c>, <c>image rm X Y</c>): one call
/// per distinct target, a failed target reported with its name while the rest still run, exit 1 if any failed.
/// An unreachable daemon or Ctrl-C ends the whole command (the caller's error path handles those).
/// </summary>
internal static class EachTarget
{
    public static async Task<int> RunAsync<TResponse>(
        CliContext context,
        DaemonConnection connection,
        IEnumerable<string> targets,
        bool json,
        Func<string, Task<TResponse>> call,
        Func<TResponse, string> describe)
        where TResponse : IMessage
    {
        var exitCode = ExitCodes.Success;
        foreach (var target in targets.Distinct(StringComparer.Ordinal))
        {
            TResponse response;
            try
            {
                response = await call(target);
            }
            catch (RpcException ex) when (!DaemonErrors.IsUnreachable(ex) && ex.StatusCode != StatusCode.Cancelled)
            {
                context.Complain($"{target}: {DaemonErrors.Describe(ex, connection.Endpoint)}");
                exitCode = ExitCodes.Failure;
                continue;
            }

            if (json)
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                context.Out.WriteLine(describe(response));
            }
        }

        return exitCode;
    }
}
