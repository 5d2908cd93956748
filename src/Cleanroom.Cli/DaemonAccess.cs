using System.CommandLine;
using Cleanroom.Client;
using Grpc.Core;

namespace Cleanroom.Cli;

/// <summary>
/// Runs a command's body against the daemon: resolves the endpoint, opens the connection, and turns failures
/// into one <c>cleanroom: ...</c> line and exit code 1 (2 for a malformed endpoint, 128+N when interrupted by signal N).
/// </summary>
internal sealed class DaemonAccess(CliContext context, HostOption host, TlsOptions tls)
{
    public DaemonEndpoint ResolveEndpoint(ParseResult parse) =>
        EndpointResolver.Resolve(parse.GetValue(host), context.Environment, context.User);

    /// <summary>The TLS settings an https endpoint is reached with (flags over variables).</summary>
    public DaemonTls ResolveTls(ParseResult parse) => tls.Resolve(parse, context.Environment);

    public async Task<int> RunAsync(ParseResult parse, Func<DaemonConnection, Task<int>> body, CancellationToken cancellationToken)
    {
        DaemonEndpoint endpoint;
        try
        {
            endpoint = ResolveEndpoint(parse);
        }
        catch (EndpointFormatException ex)
        {
            context.Complain(ex.Message);
            return ExitCodes.Usage;
        }

        DaemonConnection connection;
        try
        {
            connection = DaemonConnection.Open(endpoint, ResolveTls(parse));
        }
        catch (DaemonTlsException ex)
        {
            context.Complain(ex.Message);
            return ExitCodes.Usage;
        }

        using var owned = connection;
        try
        {
            return await body(connection);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && CallCancellation.IsCancellation(ex))
        {
            context.Complain("interrupted");
            return context.Interrupts.LastSignal > 0 ? Signals.ExitCode(context.Interrupts.LastSignal) : ExitCodes.Interrupted;
        }
        catch (RpcException ex)
        {
            context.Complain(DaemonErrors.Describe(ex, endpoint));
            return ExitCodes.Failure;
        }
        catch (Cleanroom.Workspaces.WorkspaceException ex)
        {
            // Local work around the daemon's (finding changes, applying a copy-out, unpacking a guest's archive).
            context.Complain(ex.Message);
            return ExitCodes.Failure;
        }
    }
}
