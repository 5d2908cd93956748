using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Cleanroom.Cli.Hosting;
using Cleanroom.Client;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom serve</c>: resolves where the daemon listens, keeps state and finds assets, then runs the
/// <c>cleanroom-daemon</c> executable installed beside this one until SIGINT or SIGTERM, which stop it gracefully.
/// The daemon is a separate binary so that this CLI can stay a small native executable that starts in milliseconds.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class ServeCommand : Command
{
    private readonly Option<string[]> _listen = new("--listen")
    {
        Description = "Where the control API listens; repeatable: one unix socket (unix:///path or /path; default: $XDG_RUNTIME_DIR/cleanroom/cleanroom.sock, always served) "
            + "and any number of http://HOST:PORT or https://HOST:PORT (HOST an IP address or localhost)",
        HelpName = "endpoint",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<bool> _insecure = new("--insecure") { Description = "Allow a plain http:// --listen on a non-loopback address: anyone who reaches it controls the daemon, unencrypted" };
    private readonly Option<string?> _tlsClientCa = new("--tls-client-ca") { Description = "Require https clients to present a certificate chained to this PEM CA (mTLS)", HelpName = "file" };
    private readonly Option<string?> _stateDir = new("--state-dir") { Description = "State directory (default: /var/lib/cleanroom as root, else $XDG_STATE_HOME/cleanroom)", HelpName = "dir" };
    private readonly Option<string?> _assets = new("--assets") { Description = $"Boot assets directory (default: ${ServeDefaults.AssetsVariable}, else ../assets beside the binary)", HelpName = "dir" };
    private readonly Option<string> _templates = new("--templates") { Description = "Warm starts from VM memory snapshots: on (build one per image, size and device set in the background) or off (every sandbox boots cold)", DefaultValueFactory = _ => "on" };
    private readonly Option<string> _onStop = new("--on-stop") { Description = "What stopping the daemon (SIGTERM, SIGINT) does to running sandboxes: keep them and their running commands going for the next daemon on this state directory to take over, or stop them", DefaultValueFactory = _ => "keep" };
    private readonly Option<string> _accel = new("--accel") { Description = "Acceleration: auto (KVM only when a probe boot proves it works), kvm or tcg", DefaultValueFactory = _ => "auto" };
    private readonly Option<string?> _images = new("--images") { Description = "Image store directory (default: <state-dir>/images)", HelpName = "dir" };
    private readonly Option<string?> _cacheDir = new("--cache-dir") { Description = "The gateway's content cache directory (default: <state-dir>/cache)", HelpName = "dir" };
    private readonly Option<string?> _gatewayCredentials = new("--gateway-credentials") { Description = "The gateway's credentials file (JSON: tokens or user and password per upstream host); only the daemon reads it, guests never see it", HelpName = "file" };
    private readonly Option<string?> _gatewayRegistryAuth = new("--gateway-registry-auth") { Description = "A Docker config.json whose \"auths\" give the gateway's registry routes credentials (credential helpers are not run); only the daemon reads it, guests never see it", HelpName = "file" };
    private readonly Option<string[]> _gatewayUpstreams = new("--gateway-upstream") { Description = "Send the gateway's requests for HOST to URL instead of https://HOST (an internal mirror); the policy is still checked against HOST; repeatable", HelpName = "host=url", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> _insecureRegistries = new("--insecure-registry") { Description = "A registry (host[:port]) to reach over plain HTTP; repeatable. Loopback registries always are", HelpName = "host", AllowMultipleArgumentsPerToken = false };

    // Limits the daemon enforces; passed through as written (the daemon validates them and says what is wrong).
    private readonly Option<string?>[] _limits =
    [
        new("--warm-pool") { Description = "VMs to keep restored from a template and warmed up for the kind of sandbox created last, so the next create of that kind takes one (0 to 16; default 0: none). Each counts against the totals like a sandbox", HelpName = "n" },
        new("--max-output") { Description = "Most output (stdout and stderr together) one execution may produce; the command is killed past it (default 1GiB)", HelpName = "size" },
        new("--output-retention") { Description = "How long finished executions' output is kept, e.g. 12h or 7d (default 7d)", HelpName = "duration" },
        new("--record-retention") { Description = "How long the records of ended sandboxes and finished executions are kept, with any output left (default 30d; at most the newest 10000 ended sandboxes and 100000 finished executions either way)", HelpName = "duration" },
        new("--min-free-disk") { Description = "Free space kept on the state file system; below it creates and pulls are refused (default 2GiB)", HelpName = "size" },
        new("--max-sandbox-vcpus") { Description = "Most vCPUs one sandbox may have (default: the host's cores)", HelpName = "n" },
        new("--max-sandbox-memory") { Description = "Most memory one sandbox may have (default: half the host's)", HelpName = "size" },
        new("--max-sandbox-disk") { Description = "Largest root disk one sandbox may have (default 64GiB)", HelpName = "size" },
        new("--max-total-vcpus") { Description = "Most vCPUs of all sandboxes together (default: 4 per core)", HelpName = "n" },
        new("--max-total-memory") { Description = "Most memory of all sandboxes together (default: 3/4 of the host's)", HelpName = "size" },
        new("--max-total-disk") { Description = "Most root disk of all sandboxes together (default 256GiB)", HelpName = "size" },
        new("--network") { Description = "Sandbox networks: auto (when root with /dev/net/tun and nft), on (refuse to start without), off (no network card at all)", HelpName = "auto|on|off" },
        new("--network-pool") { Description = "IPv4 block the sandboxes' /30 links come from (default 10.213.0.0/16)", HelpName = "cidr" },
        new("--ipv6") { Description = "Sandbox IPv6: auto (when the host has an IPv6 default route), on, off (guests get no IPv6; AAAA answers are empty)", HelpName = "auto|on|off" },
        new("--network-pool6") { Description = "IPv6 block the sandboxes' /126 links come from (default fd63:6c65:616e::/64)", HelpName = "cidr" },
        new("--workspace-max-size") { Description = "Largest commit tree (file content) a workspace is built for (default 10GiB)", HelpName = "size" },
        new("--workspace-max-files") { Description = "Most files, directories and links a commit tree may have for a workspace (default 2000000)", HelpName = "n" },
        new("--workspace-store-size") { Description = "Disk the cached workspace images may use; least recently used ones go past it (default 20GiB)", HelpName = "size" },
        new("--cache-max-size") { Description = "Disk the gateway's content cache may use; the least valuable content goes past it (default 10GiB)", HelpName = "size" },
        new("--gateway") { Description = "The host gateway guests fetch through (gateway.cleanroom.internal:8170): auto (with the network; a failed start only warns), on (refuse to start without), off", HelpName = "auto|on|off" },
        new("--guard-mode") { Description = "How a connection's TLS server name or HTTP Host is checked: proxy (the host terminates and relays it) or queue (its first packets are held until decided, then the kernel forwards it)", HelpName = "proxy|queue" },
    ];

    private readonly Option<string[]> _dnsUpstreams = new("--dns-upstream") { Description = "A resolver allowed DNS queries go to, ADDR[:PORT]; repeatable (default: the host's /etc/resolv.conf)", HelpName = "addr", AllowMultipleArgumentsPerToken = false };

    public ServeCommand(CliContext context, TlsOptions tls)
        : base("serve", "Run the daemon")
    {
        _accel.AcceptOnlyFromAmong("auto", "kvm", "tcg");
        _templates.AcceptOnlyFromAmong("on", "off");
        _onStop.AcceptOnlyFromAmong("stop", "keep");
        _listen.Validators.Add(result =>
        {
            if (ListenError(result.GetValueOrDefault<string[]>() ?? []) is { } error)
            {
                result.AddError(error);
            }
        });
        Options.Add(_listen);
        Options.Add(_insecure);
        Options.Add(_tlsClientCa);
        Options.Add(_stateDir);
        Options.Add(_assets);
        Options.Add(_accel);
        Options.Add(_templates);
        Options.Add(_onStop);
        Options.Add(_images);
        Options.Add(_cacheDir);
        Options.Add(_gatewayCredentials);
        Options.Add(_gatewayRegistryAuth);
        Options.Add(_gatewayUpstreams);
        Options.Add(_insecureRegistries);
        Options.Add(_dnsUpstreams);
        foreach (var limit in _limits)
        {
            Options.Add(limit);
        }

        SetAction((parse, cancellationToken) =>
        {
            var listens = parse.GetValue(_listen) ?? [];
            var socket = listens.Select(DaemonEndpoint.Parse).FirstOrDefault(e => e.SocketPath is not null)?.SocketPath;
            List<string> args =
            [
                "--listen", socket ?? ServeDefaults.SocketPath(context.Environment, context.User),
                "--state-dir", Path.GetFullPath(parse.GetValue(_stateDir) ?? ServeDefaults.StateDir(context.Environment, context.User)),
                "--accel", parse.GetValue(_accel)!,
                "--templates", parse.GetValue(_templates)!,
                "--on-stop", parse.GetValue(_onStop)!,
            ];
            if (NetworkArguments(parse, listens, tls.Resolve(parse, context.Environment), parse.GetValue(tls.Cert) is not null || parse.GetValue(tls.Key) is not null) is not { } network)
            {
                context.Complain("--tls-cert, --tls-key and --tls-client-ca need an https:// --listen");
                return Task.FromResult(ExitCodes.Usage);
            }

            args.AddRange(network);
            if (ServeDefaults.AssetsDir(parse.GetValue(_assets), context.Environment, AppContext.BaseDirectory) is { } assets)
            {
                args.AddRange(["--assets", assets]);
            }

            if (parse.GetValue(_images) is { } images)
            {
                args.AddRange(["--images", Path.GetFullPath(images)]);
            }

            if (parse.GetValue(_cacheDir) is { } cacheDir)
            {
                args.AddRange(["--cache-dir", Path.GetFullPath(cacheDir)]);
            }

            if (parse.GetValue(_gatewayCredentials) is { } credentials)
            {
                args.AddRange(["--gateway-credentials", Path.GetFullPath(credentials)]);
            }

            if (parse.GetValue(_gatewayRegistryAuth) is { } registryAuth)
            {
                args.AddRange(["--gateway-registry-auth", Path.GetFullPath(registryAuth)]);
            }

            foreach (var upstream in parse.GetValue(_gatewayUpstreams) ?? [])
            {
                args.AddRange(["--gateway-upstream", upstream]);
            }

            foreach (var registry in parse.GetValue(_insecureRegistries) ?? [])
            {
                args.AddRange(["--insecure-registry", registry]);
            }

            foreach (var upstream in parse.GetValue(_dnsUpstreams) ?? [])
            {
                args.AddRange(["--dns-upstream", upstream]);
            }

            foreach (var limit in _limits)
            {
                if (parse.GetValue(limit) is { } value)
                {
                    args.AddRange([limit.Name, value]);
                }
            }

            return RunDaemonAsync(context, args, cancellationToken);
        });
    }

    private static async Task<int> RunDaemonAsync(CliContext context, List<string> args, CancellationToken cancellationToken)
    {
        var daemon = context.Environment("CLEANROOM_DAEMON") is { Length: > 0 } configured ? configured : Path.Join(AppContext.BaseDirectory, "cleanroom-daemon");
        if (!File.Exists(daemon))
        {
            await context.Error.WriteLineAsync($"cleanroom: the daemon executable is missing: {daemon} (run scripts/setup.sh, or set CLEANROOM_DAEMON)");
            return ExitCodes.Failure;
        }

        using var process = Process.Start(new ProcessStartInfo(daemon, args) { UseShellExecute = false })!;

        // Every SIGINT/SIGTERM is passed on as SIGTERM: the first is the daemon's graceful stop, a later one (a second
        // or more after) ends it at once. Taking the signals over also means serve waits for the daemon however long
        // its stop takes: stopping many sandboxes under TCG takes more than the grace ProcessSignals gives a command
        // that does not handle its interrupt, after which serve used to exit 143 with the daemon still stopping.
        using var forward = context.Interrupts.Subscribe(_ => Kill(process.Id, 15));
        if (cancellationToken.IsCancellationRequested)
        {
            // The signal came between the start and the subscription.
            _ = Kill(process.Id, 15);
        }

        await process.WaitForExitAsync(CancellationToken.None);
        return process.ExitCode;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// The network listeners and their TLS settings for the daemon, which validates them; null when TLS flags were
    /// given without an https listener. The certificate variables only count with one (they may be set for clients).
    /// </summary>
    private List<string>? NetworkArguments(ParseResult parse, string[] listens, DaemonTls tls, bool certFlag)
    {
        List<string> args = [];
        var https = false;
        foreach (var listen in listens.Where(l => DaemonEndpoint.Parse(l).Address is not null))
        {
            https |= listen.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
            args.AddRange(["--listen", listen.Trim()]);
        }

        if (parse.GetValue(_insecure))
        {
            args.Add("--insecure");
        }

        var clientCa = parse.GetValue(_tlsClientCa);
        if (!https)
        {
            return certFlag || clientCa is not null ? null : args;
        }

        if (tls.CertFile is not null)
        {
            args.AddRange(["--tls-cert", tls.CertFile]);
        }

        if (tls.KeyFile is not null)
        {
            args.AddRange(["--tls-key", tls.KeyFile]);
        }

        if (clientCa is not null)
        {
            args.AddRange(["--tls-client-ca", Path.GetFullPath(clientCa)]);
        }

        return args;
    }

    private static string? ListenError(string[] listens)
    {
        try
        {
            return listens.Count(l => DaemonEndpoint.Parse(l).SocketPath is not null) > 1
                ? "--listen takes one unix socket (and any number of http:// or https:// listeners)"
                : null;
        }
        catch (EndpointFormatException ex)
        {
            return ex.Message;
        }
    }
}
