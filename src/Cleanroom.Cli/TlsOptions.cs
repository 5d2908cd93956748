using System.CommandLine;
using Cleanroom.Client;

namespace Cleanroom.Cli;

/// <summary>
/// The global TLS options. For client commands: the CA to trust for an https daemon and the client certificate to
/// offer. For <c>serve</c>, <c>--tls-cert</c> and <c>--tls-key</c> are the daemon's own certificate instead (one
/// pair of names and variables for "my certificate", whichever side this process is).
/// </summary>
internal sealed class TlsOptions
{
    public Option<string?> Ca { get; } = new("--tls-ca")
    {
        Description = $"PEM CA certificate(s), or the daemon's self-signed certificate, to trust for an https daemon instead of the system roots (default: ${EndpointResolver.TlsCaVariable})",
        HelpName = "file",
        Recursive = true,
    };

    public Option<string?> Cert { get; } = new("--tls-cert")
    {
        Description = $"PEM certificate: the client certificate for an https daemon that requires one; for 'serve', the daemon's certificate (default: ${EndpointResolver.TlsCertVariable})",
        HelpName = "file",
        Recursive = true,
    };

    public Option<string?> Key { get; } = new("--tls-key")
    {
        Description = $"PEM private key of --tls-cert (default: ${EndpointResolver.TlsKeyVariable})",
        HelpName = "file",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Ca);
        command.Options.Add(Cert);
        command.Options.Add(Key);
    }

    /// <summary>Each flag over its variable.</summary>
    public DaemonTls Resolve(ParseResult parse, Func<string, string?> environment) =>
        EndpointResolver.ResolveTls(parse.GetValue(Ca), parse.GetValue(Cert), parse.GetValue(Key), environment);
}
