using Cleanroom.Daemon.Connect;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>Where a call came from, for what only a client on the daemon's own host may be offered.</summary>
internal static class CallOrigin
{
    /// <summary>
    /// True for a call over the daemon's unix socket: a connection without an IP address (Kestrel gives every TCP
    /// connection one). Such a client shares the host, though not necessarily the mount namespace.
    /// </summary>
    public static bool IsUnixSocket(ServerCallContext context)
    {
        var http = context is ConnectCallContext connect ? connect.Http : context.GetHttpContext();
        return http.Connection.RemoteIpAddress is null && http.Connection.LocalIpAddress is null;
    }
}
