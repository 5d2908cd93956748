namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>An upstream registry redirected to a host the requesting sandbox's policy does not allow.</summary>
public sealed class OciRedirectRefusedException : Exception
{
    public OciRedirectRefusedException()
    {
    }

    public OciRedirectRefusedException(string message)
        : base(message)
    {
    }

    public OciRedirectRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OciRedirectRefusedException(string host, int port)
        : base($"the registry redirected to {host}:{port}, which the sandbox's network policy does not allow")
    {
        Host = host;
        Port = port;
    }

    /// <summary>A refusal of <paramref name="host"/>:<paramref name="port"/> with its own wording (a token service, say).</summary>
    public OciRedirectRefusedException(string message, string host, int port)
        : base(message)
    {
        Host = host;
        Port = port;
    }

    /// <summary>The refused host.</summary>
    public string Host { get; } = "";

    /// <summary>The refused port.</summary>
    public int Port { get; }
}
