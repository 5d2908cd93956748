using System.Globalization;
using Cleanroom.Daemon.Admission;
using Cleanroom.Policy.Text;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// Parses <c>cleanroom-daemon</c>'s arguments (what <c>cleanroom serve</c> resolved) into <see cref="DaemonOptions"/>.
/// Sizes are written as in policies (<c>512MiB</c>, <c>8GiB</c>); durations as <c>30m</c>, <c>12h</c> or <c>7d</c>.
/// </summary>
internal static class DaemonArguments
{
    public const string Usage =
        "usage: cleanroom-daemon --listen SOCKET [--listen http(s)://HOST:PORT]... [--insecure] [--tls-cert FILE --tls-key FILE] [--tls-client-ca FILE]\n" +
        "  --state-dir DIR [--assets DIR] [--accel auto|kvm|tcg] [--templates on|off] [--warm-pool N] [--on-stop keep|stop] [--images DIR] [--insecure-registry HOST[:PORT]]...\n" +
        "  [--max-output SIZE] [--output-retention DURATION] [--record-retention DURATION] [--min-free-disk SIZE]\n" +
        "  [--max-sandbox-vcpus N] [--max-sandbox-memory SIZE] [--max-sandbox-disk SIZE] [--max-total-vcpus N] [--max-total-memory SIZE] [--max-total-disk SIZE]\n" +
        "  [--network auto|on|off] [--network-pool CIDR] [--ipv6 auto|on|off] [--network-pool6 CIDR] [--dns-upstream ADDR[:PORT]]...\n" +
        "  [--guard-mode auto|proxy|queue] [--workspace-max-size SIZE] [--workspace-max-files N] [--workspace-store-size SIZE]\n" +
        "  [--gateway auto|on|off] [--gateway-credentials FILE] [--gateway-registry-auth FILE] [--gateway-upstream HOST=URL]... [--cache-dir DIR] [--cache-max-size SIZE]";

    private static readonly string[] Known =
    [
        "--listen", "--state-dir", "--assets", "--accel", "--templates", "--warm-pool", "--on-stop", "--images", "--insecure-registry", "--max-output", "--output-retention", "--record-retention", "--min-free-disk",
        "--max-sandbox-vcpus", "--max-sandbox-memory", "--max-sandbox-disk", "--max-total-vcpus", "--max-total-memory", "--max-total-disk",
        "--network", "--network-pool", "--ipv6", "--network-pool6", "--dns-upstream", "--guard-mode",
        "--workspace-max-size", "--workspace-max-files", "--workspace-store-size",
        "--gateway", "--gateway-credentials", "--gateway-registry-auth", "--gateway-upstream",
        "--cache-dir", "--cache-max-size", "--tls-cert", "--tls-key", "--tls-client-ca",
    ];

    /// <summary>The smallest cache budget: a twentieth of it is the largest object, which should hold a small package.</summary>
    public const long MinCacheBytes = 1L << 20;

    public static bool TryParse(string[] args, out DaemonOptions? options, out string error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var insecure = new List<string>();
        var upstreams = new List<string>();
        var gatewayUpstreams = new List<string>();
        var listens = new List<string>();
        var insecureListeners = false;
        options = null;
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] == "--insecure")
            {
                insecureListeners = true;
                i--; // a flag without a value
                continue;
            }

            if (!Known.Contains(args[i]) || i + 1 >= args.Length)
            {
                error = $"unexpected argument '{args[i]}'";
                return false;
            }

            if (args[i] == "--insecure-registry")
            {
                insecure.Add(args[i + 1]);
            }

            if (args[i] == "--listen")
            {
                listens.Add(args[i + 1]);
            }

            if (args[i] == "--dns-upstream")
            {
                upstreams.Add(args[i + 1]);
            }

            if (args[i] == "--gateway-upstream")
            {
                gatewayUpstreams.Add(args[i + 1]);
            }

            values[args[i]] = args[i + 1];
        }

        var sockets = listens.Where(l => !ListenerSpec.IsNetwork(l)).ToList();
        if (sockets.Count != 1 || !values.TryGetValue("--state-dir", out var stateDir))
        {
            error = sockets.Count > 1 ? "--listen takes one unix socket (and any number of http(s) listeners)" : "--listen SOCKET and --state-dir are required";
            return false;
        }

        if (values.GetValueOrDefault("--templates", "on") is not ("on" or "off"))
        {
            error = "--templates takes on or off";
            return false;
        }

        if (values.TryGetValue("--warm-pool", out var poolText)
            && (!int.TryParse(poolText, NumberStyles.None, CultureInfo.InvariantCulture, out var poolSize) || poolSize > Daemon.Pool.WarmPool.MaxSize))
        {
            error = $"--warm-pool takes a whole number from 0 to {Daemon.Pool.WarmPool.MaxSize} (got '{poolText}')";
            return false;
        }

        if (values.GetValueOrDefault("--warm-pool", "0") != "0" && values.GetValueOrDefault("--templates", "on") == "off")
        {
            error = "--warm-pool needs --templates on: pooled VMs are restored from templates";
            return false;
        }

        if (values.GetValueOrDefault("--on-stop", "keep") is not ("stop" or "keep"))
        {
            error = "--on-stop takes stop or keep";
            return false;
        }

        try
        {
            var limits = SandboxLimits.ForThisHost();
            var defaults = new DaemonOptions { SocketPath = sockets[0], StateDir = stateDir };
            options = defaults with
            {
                Listeners = Listeners(listens, insecureListeners),
                Insecure = insecureListeners,
                TlsCertFile = values.TryGetValue("--tls-cert", out var tlsCert) ? ExistingFile("--tls-cert", tlsCert) : null,
                TlsKeyFile = values.TryGetValue("--tls-key", out var tlsKey) ? ExistingFile("--tls-key", tlsKey) : null,
                TlsClientCaFile = values.TryGetValue("--tls-client-ca", out var clientCa) ? ExistingFile("--tls-client-ca", clientCa) : null,
                AssetsDir = values.GetValueOrDefault("--assets"),
                Accel = values.GetValueOrDefault("--accel", "auto"),
                Templates = values.GetValueOrDefault("--templates", "on") == "on",
                WarmPool = int.Parse(values.GetValueOrDefault("--warm-pool", "0"), NumberStyles.None, CultureInfo.InvariantCulture),
                KeepSandboxesOnStop = values.GetValueOrDefault("--on-stop", "keep") == "keep",
                ImagesDir = values.GetValueOrDefault("--images"),
                InsecureRegistries = insecure,
                MaxOutputBytes = Size(values, "--max-output", defaults.MaxOutputBytes),
                OutputRetention = Duration(values, "--output-retention", defaults.OutputRetention),
                RecordRetention = Duration(values, "--record-retention", defaults.RecordRetention),
                MinFreeDiskBytes = Size(values, "--min-free-disk", defaults.MinFreeDiskBytes),
                Network = NetworkMode("--network", values.GetValueOrDefault("--network", "auto")),
                Ipv6 = NetworkMode("--ipv6", values.GetValueOrDefault("--ipv6", "auto")),
                NetworkSettings = defaults.NetworkSettings with
                {
                    Pool = values.TryGetValue("--network-pool", out var pool) ? Pool(pool) : defaults.NetworkSettings.Pool,
                    Pool6 = values.TryGetValue("--network-pool6", out var pool6) ? Pool6(pool6) : null,
                    DnsUpstreams = upstreams.Select(Upstream).ToList(),
                    GuardMode = GuardMode(values.GetValueOrDefault("--guard-mode", "auto")),
                },
                GuardModeFallback = values.GetValueOrDefault("--guard-mode", "auto") == "auto",
                Gateway = NetworkMode("--gateway", values.GetValueOrDefault("--gateway", "auto")),
                GatewayCredentialsFile = values.TryGetValue("--gateway-credentials", out var credentials) ? ExistingFile("--gateway-credentials", credentials) : null,
                GatewayRegistryAuthFile = values.TryGetValue("--gateway-registry-auth", out var registryAuth) ? ExistingFile("--gateway-registry-auth", registryAuth) : null,
                GatewayUpstreams = GatewayUpstreams(gatewayUpstreams),
                MaxWorkspaceTreeBytes = Size(values, "--workspace-max-size", defaults.MaxWorkspaceTreeBytes),
                MaxWorkspaceTreeEntries = Count(values, "--workspace-max-files", defaults.MaxWorkspaceTreeEntries),
                MaxWorkspaceStoreBytes = Size(values, "--workspace-store-size", defaults.MaxWorkspaceStoreBytes),
                CacheDir = values.GetValueOrDefault("--cache-dir"),
                CacheMaxBytes = CacheSize(values, defaults.CacheMaxBytes),
                Limits = limits with
                {
                    MaxVcpus = Count(values, "--max-sandbox-vcpus", limits.MaxVcpus),
                    MaxMemoryBytes = Size(values, "--max-sandbox-memory", limits.MaxMemoryBytes),
                    MaxDiskBytes = Size(values, "--max-sandbox-disk", limits.MaxDiskBytes),
                    MaxTotalVcpus = Count(values, "--max-total-vcpus", limits.MaxTotalVcpus),
                    MaxTotalMemoryBytes = Size(values, "--max-total-memory", limits.MaxTotalMemoryBytes),
                    MaxTotalDiskBytes = Size(values, "--max-total-disk", limits.MaxTotalDiskBytes),
                },
            };
            CheckTls(options);
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return false;
        }

        error = "";
        return true;
    }

    /// <summary>The http(s) listeners; plain http where other machines can reach it only with <c>--insecure</c>.</summary>
    private static List<ListenerSpec> Listeners(IEnumerable<string> listens, bool insecure)
    {
        var listeners = listens.Where(ListenerSpec.IsNetwork).Select(ListenerSpec.Parse).ToList();
        if (listeners.FirstOrDefault(l => !l.Tls && !l.IsLoopback) is { } open && !insecure)
        {
            throw new FormatException(
                $"--listen {open.Display}: plain http on a non-loopback address lets anyone on the network run sandboxes unencrypted and unauthenticated; " +
                "use https:// (with --tls-client-ca to require client certificates), or pass --insecure if the network is trusted");
        }

        return listeners;
    }

    private static void CheckTls(DaemonOptions options)
    {
        if ((options.TlsCertFile is null) != (options.TlsKeyFile is null))
        {
            throw new FormatException("--tls-cert and --tls-key go together");
        }

        if ((options.TlsCertFile is not null || options.TlsClientCaFile is not null) && !options.Listeners.Any(l => l.Tls))
        {
            throw new FormatException("--tls-cert, --tls-key and --tls-client-ca need an https:// --listen");
        }
    }

    private static DaemonNetworkMode NetworkMode(string name, string text) => text switch
    {
        "auto" => DaemonNetworkMode.Auto,
        "on" => DaemonNetworkMode.On,
        "off" => DaemonNetworkMode.Off,
        _ => throw new FormatException($"{name} takes auto, on or off (got '{text}')"),
    };

    private static Cleanroom.Network.GuardMode GuardMode(string text) => text switch
    {
        "proxy" => Cleanroom.Network.GuardMode.Proxy,
        "queue" or "auto" => Cleanroom.Network.GuardMode.Queue,
        _ => throw new FormatException($"--guard-mode takes auto, proxy or queue (got '{text}')"),
    };

    /// <summary>Checked against the IPv4 pool later (it must hold as many /126s as that has /30s); here only its form.</summary>
    private static System.Net.IPNetwork Pool6(string text) =>
        System.Net.IPNetwork.TryParse(text, out var pool) && pool.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            && !pool.BaseAddress.IsIPv4MappedToIPv6 && pool.PrefixLength is >= 48 and <= 120
            && System.Net.IPAddress.TryParse(text.Split('/')[0], out var written) && written.Equals(pool.BaseAddress)
            ? pool
            : throw new FormatException($"--network-pool6 takes an IPv6 block from /48 to /120 with its host bits clear, such as fd63:6c65:616e::/64 (got '{text}')");

    private static System.Net.IPNetwork Pool(string text) =>
        System.Net.IPNetwork.TryParse(text, out var pool) && pool.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && pool.PrefixLength is >= 8 and <= 28
            ? pool
            : throw new FormatException($"--network-pool takes an IPv4 block from /8 to /28 with its host bits clear, such as 10.213.0.0/16 (got '{text}')");

    private static System.Net.IPEndPoint Upstream(string text)
    {
        if (System.Net.IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port is >= 0 and <= 65535)
        {
            return endpoint.Port == 0 ? new System.Net.IPEndPoint(endpoint.Address, 53) : endpoint;
        }

        throw new FormatException($"--dns-upstream takes an IP address with an optional port, such as 192.0.2.53 or 192.0.2.53:5353 (got '{text}')");
    }

    /// <summary>
    /// An absolute path to an existing file; whether its contents are valid is for the gateway to say when it starts
    /// (a bad credentials file stops a daemon started with <c>--gateway on</c>, and leaves the gateway out under auto;
    /// a Docker config that cannot be read is logged, and registries are then asked anonymously).
    /// </summary>
    private static string ExistingFile(string flag, string text)
    {
        var path = text.Length > 0 ? Path.GetFullPath(text) : throw new FormatException($"{flag} takes a file name");
        return File.Exists(path) ? path : throw new FormatException($"{flag}: no such file '{path}'");
    }

    /// <summary>
    /// <c>HOST=URL</c> pairs: HOST a host name as policies write them (no wildcard, no address), URL an absolute http or
    /// https URL without credentials, query or fragment; each host at most once.
    /// </summary>
    private static Dictionary<string, Uri> GatewayUpstreams(IEnumerable<string> entries)
    {
        var upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            var host = equals > 0 ? entry[..equals] : "";
            var url = equals > 0 ? entry[(equals + 1)..] : "";
            if (!Cleanroom.Policy.HostPattern.TryParse(host, out var pattern, out _) || pattern.Kind != Cleanroom.Policy.HostPatternKind.Name)
            {
                throw new FormatException($"--gateway-upstream takes HOST=URL with HOST a host name, such as github.com=https://git-mirror.internal/ (got '{entry}')");
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            {
                throw new FormatException($"--gateway-upstream {host}: the URL must be http:// or https:// without user, query or fragment (got '{url}')");
            }

            if (!upstreams.TryAdd(pattern.Value, uri))
            {
                throw new FormatException($"--gateway-upstream names {pattern.Value} twice");
            }
        }

        return upstreams;
    }

    private static long Size(Dictionary<string, string> values, string name, long fallback) =>
        !values.TryGetValue(name, out var text) ? fallback
        : ByteSize.TryParse(text, out var bytes) && bytes >= 0 ? bytes
        : throw new FormatException($"{name} takes a size such as 512MiB or 8GiB (got '{text}')");

    private static long CacheSize(Dictionary<string, string> values, long fallback)
    {
        var bytes = Size(values, "--cache-max-size", fallback);
        return bytes >= MinCacheBytes ? bytes : throw new FormatException($"--cache-max-size must be at least 1MiB (got '{values["--cache-max-size"]}')");
    }

    private static int Count(Dictionary<string, string> values, string name, int fallback) =>
        !values.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0 ? count
        : throw new FormatException($"{name} takes a positive whole number (got '{text}')");

    private static TimeSpan Duration(Dictionary<string, string> values, string name, TimeSpan fallback)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        var unit = text.Length > 1 ? text[^1] : ' ';
        if (long.TryParse(text.AsSpan(0, Math.Max(text.Length - 1, 0)), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0 && number < 100_000)
        {
            switch (unit)
            {
                case 'm': return TimeSpan.FromMinutes(number);
                case 'h': return TimeSpan.FromHours(number);
                case 'd': return TimeSpan.FromDays(number);
            }
        }

        throw new FormatException($"{name} takes a duration such as 30m, 12h or 7d (got '{text}')");
    }
}
