using System.Net.Sockets;
using Grpc.Core;

namespace Cleanroom.Client;

/// <summary>Turns failed calls into the one line a user sees.</summary>
public static class DaemonErrors
{
    private static readonly System.Buffers.SearchValues<char> ReasonCharacters = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz_");

    /// <summary>
    /// True when the call never reached a daemon (no socket, nobody listening, connect timeout), as opposed to a
    /// daemon answering UNAVAILABLE itself: only a transport failure carries the socket/HTTP exception.
    /// </summary>
    public static bool IsUnreachable(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return UnreachableReason(exception) is not null;
    }

    /// <summary>Why the daemon could not be reached (e.g. "no socket at that path"), or null when it was.</summary>
    public static string? UnreachableReason(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        // A failed handshake reached a listener: it is a trust problem, not a missing daemon (see Describe).
        if (exception.StatusCode != StatusCode.Unavailable || TlsFailure(exception.Status.DebugException) is not null
            || TransportFailure(exception.Status.DebugException) is not { } failure)
        {
            return null;
        }

        // .NET reports a missing unix socket file (ENOENT) as "Cannot assign requested address"; say what it means.
        return failure is SocketException socket ? socket.SocketErrorCode switch
        {
            SocketError.AddressNotAvailable => "no socket at that path",
            SocketError.ConnectionRefused => "connection refused (nothing is listening)",
            SocketError.AccessDenied => "permission denied",
            _ => socket.Message,
        } : failure.Message;
    }

    /// <summary>
    /// The daemon's stable reason code of a failed call (e.g. <c>sandbox_not_found</c>, <c>invalid_argument</c>): the
    /// first word of the status detail. Null when the call failed before reaching the daemon or the detail has none.
    /// </summary>
    public static string? ReasonCode(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var detail = exception.Status.Detail;
        var colon = detail.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && detail.AsSpan(0, colon).ContainsAnyExcept(ReasonCharacters) is false ? detail[..colon] : null;
    }

    /// <summary>One line, without a program-name prefix, e.g. the daemon's own error detail.</summary>
    public static string Describe(RpcException exception, DaemonEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(endpoint);
        // Grpc.Net.Client reports a failed handshake as INTERNAL (an untrusted certificate) or UNAVAILABLE; the cause says which it was.
        if (TlsFailure(exception.Status.DebugException) is { } tls)
        {
            return $"TLS handshake with the daemon at {endpoint.Display} failed: {tls.Message.TrimEnd('.', ' ')}. "
                + "Trust its certificate with --tls-ca FILE (or CLEANROOM_TLS_CA); a daemon that requires client certificates also needs --tls-cert and --tls-key.";
        }

        if (UnreachableReason(exception) is { } reason)
        {
            return Unreachable(endpoint, reason);
        }

        var detail = exception.Status.Detail;
        return detail.Length > 0 ? detail : $"the daemon answered {exception.StatusCode}";
    }

    /// <summary>The line saying the daemon at <paramref name="endpoint"/> could not be reached and why.</summary>
    public static string Unreachable(DaemonEndpoint endpoint, string reason)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return $"cannot reach the daemon at {endpoint.Display}: {reason.TrimEnd('.', ' ')}. "
            + "Start it with 'cleanroom serve' (or use ./cleanroom, which starts it).";
    }

    /// <summary>The innermost handshake failure (an untrusted certificate, a refused client certificate), if that was the cause.</summary>
    private static System.Security.Authentication.AuthenticationException? TlsFailure(Exception? exception)
    {
        System.Security.Authentication.AuthenticationException? found = null;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is System.Security.Authentication.AuthenticationException authentication)
            {
                found = authentication;
            }
        }

        return found;
    }

    // The innermost socket error names the real cause ("No such file or directory", "Connection refused");
    // HttpRequestException only wraps it with the address.
    private static Exception? TransportFailure(Exception? exception)
    {
        Exception? found = null;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SocketException or HttpRequestException or TimeoutException)
            {
                found = current;
            }
        }

        return found;
    }
}
