using System.CommandLine;
using System.Reflection;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Grpc.Core;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom version</c>: the client's version, then the daemon's with its backend and accelerator when a
/// daemon answers. A missing daemon is reported but is not an error here.
/// </summary>
internal sealed class VersionCommand : Command
{
    public VersionCommand(CliContext context, DaemonAccess daemon)
        : base("version", "Show the client and daemon versions")
    {
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            context.Out.WriteLine($"cleanroom version {ClientVersion}");
            GetVersionResponse version;
            try
            {
                version = await connection.System.GetVersionAsync(new GetVersionRequest(), cancellationToken: cancellationToken);
            }
            catch (RpcException ex) when (DaemonErrors.UnreachableReason(ex) is { } unreachable)
            {
                context.Out.WriteLine($"daemon: not reachable at {connection.Endpoint.Display}: {unreachable}");
                return ExitCodes.Success;
            }

            context.Out.WriteLine($"daemon version {version.Version}");
            context.Out.WriteLine($"endpoint: {connection.Endpoint.Display}");
            context.Out.WriteLine($"backend: {version.Backend}");
            var reason = version.AcceleratorReason.Length > 0 ? $" ({version.AcceleratorReason})" : "";
            context.Out.WriteLine($"accelerator: {version.Accelerator}{reason}");
            return ExitCodes.Success;
        }, cancellationToken));
    }

    public static string ClientVersion { get; } =
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
