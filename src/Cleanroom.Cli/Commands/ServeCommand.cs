using System.CommandLine;
using System.Runtime.Versioning;
using Cleanroom.Cli.Hosting;
using Cleanroom.Client;
using Cleanroom.Daemon;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom serve</c>: runs the daemon in this process until SIGINT or SIGTERM, which stop it gracefully
/// (a second signal ends the process at once).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ServeCommand : Command
{
    private readonly Option<string?> _listen = new("--listen") { Description = "Unix socket to listen on: unix:///path or /path (default: $XDG_RUNTIME_DIR/cleanroom/cleanroom.sock)", HelpName = "socket" };
    private readonly Option<string?> _stateDir = new("--state-dir") { Description = "State directory (default: /var/lib/cleanroom as root, else $XDG_STATE_HOME/cleanroom)", HelpName = "dir" };
    private readonly Option<string?> _assets = new("--assets") { Description = $"Boot assets directory (default: ${ServeDefaults.AssetsVariable}, else ../assets beside the binary)", HelpName = "dir" };
    private readonly Option<string> _accel = new("--accel") { Description = "Acceleration: auto (KVM only when a probe boot proves it works), kvm or tcg", DefaultValueFactory = _ => "auto" };

    public ServeCommand(CliContext context)
        : base("serve", "Run the daemon")
    {
        _accel.AcceptOnlyFromAmong("auto", "kvm", "tcg");
        _listen.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && ListenSocket(value) is { } error)
            {
                result.AddError(error);
            }
        });
        Options.Add(_listen);
        Options.Add(_stateDir);
        Options.Add(_assets);
        Options.Add(_accel);
        SetAction((parse, cancellationToken) =>
        {
            var listen = parse.GetValue(_listen);
            var options = new DaemonOptions
            {
                SocketPath = listen is null ? ServeDefaults.SocketPath(context.Environment, context.User) : DaemonEndpoint.Parse(listen).SocketPath!,
                StateDir = Path.GetFullPath(parse.GetValue(_stateDir) ?? ServeDefaults.StateDir(context.Environment, context.User)),
                AssetsDir = ServeDefaults.AssetsDir(parse.GetValue(_assets), context.Environment, AppContext.BaseDirectory),
                Accel = parse.GetValue(_accel)!,
            };
            // The token is cancelled by the first SIGINT/SIGTERM (see ProcessSignals): the daemon's graceful stop.
            return DaemonHost.RunAsync(options, cancellationToken);
        });
    }

    private static string? ListenSocket(string value)
    {
        try
        {
            return DaemonEndpoint.Parse(value).SocketPath is null ? "--listen takes a unix socket: unix:///path or /path" : null;
        }
        catch (EndpointFormatException ex)
        {
            return ex.Message;
        }
    }
}
