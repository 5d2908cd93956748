using System.CommandLine;
using Cleanroom.Client;

namespace Cleanroom.Cli;

/// <summary>The global <c>--host</c> option: which daemon every client command talks to.</summary>
internal sealed class HostOption : Option<string?>
{
    public HostOption()
        : base("--host")
    {
        Description = $"Daemon endpoint: unix:///path, /path, http://host:port or https://host:port (default: ${EndpointResolver.HostVariable}, then the local socket)";
        HelpName = "endpoint";
        Recursive = true;
        Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value)
            {
                try
                {
                    DaemonEndpoint.Parse(value);
                }
                catch (EndpointFormatException ex)
                {
                    result.AddError(ex.Message);
                }
            }
        });
    }
}
