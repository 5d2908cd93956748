namespace Cleanroom.Gateway.Upstream;

/// <summary>An upstream redirect pointed at a host the sandbox's policy does not allow (403 <c>host_not_allowed</c>).</summary>
public sealed class RedirectRefusedException : Exception
{
    /// <summary>Creates the exception for the refused target host.</summary>
    public RedirectRefusedException(string host)
        : base($"the upstream redirected to a host the policy does not allow: {host}")
    {
        Host = host;
    }

    /// <summary>Creates the exception with no host.</summary>
    public RedirectRefusedException()
    {
        Host = "";
    }

    /// <summary>Creates the exception with a message.</summary>
    public RedirectRefusedException(string message, Exception inner)
        : base(message, inner)
    {
        Host = "";
    }

    /// <summary>The host the redirect named (upstream-controlled: escape before showing).</summary>
    public string Host { get; }
}
