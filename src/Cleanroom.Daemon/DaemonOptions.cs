using Cleanroom.Daemon.Admission;

namespace Cleanroom.Daemon;

/// <summary>How the daemon is started: where it listens, keeps its state, and finds boot assets.</summary>
public sealed record DaemonOptions
{
    /// <summary>Unix socket the control API listens on (mode 0600).</summary>
    public required string SocketPath { get; init; }

    /// <summary>
    /// Network listeners beside the socket (<c>--listen http(s)://HOST:PORT</c>), each serving the same control API.
    /// Whoever reaches one may use the daemon: plain http off loopback needs <see cref="Insecure"/>.
    /// </summary>
    public IReadOnlyList<Hosting.ListenerSpec> Listeners { get; init; } = [];

    /// <summary><c>--insecure</c>: allows plain http listeners on addresses other machines can reach.</summary>
    public bool Insecure { get; init; }

    /// <summary>PEM certificate (with its chain) and key for https listeners; null generates a self-signed one under the state dir.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>PEM private key for <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>PEM CA certificate(s): when set, https listeners require a client certificate chained to one of them (mTLS).</summary>
    public string? TlsClientCaFile { get; init; }

    /// <summary>Where the generated server certificate and key are kept.</summary>
    public string TlsDir => Path.Combine(StateDir, "tls");

    /// <summary>Holds the SQLite state, sandbox work directories and execution output logs.</summary>
    public required string StateDir { get; init; }

    /// <summary>Directory with vmlinux, initramfs.cpio.gz, base.ext4 and assets.json (from scripts/setup.sh).</summary>
    public string? AssetsDir { get; init; }

    /// <summary><c>auto</c> (KVM only when a probe boot proves it works), <c>kvm</c> or <c>tcg</c>.</summary>
    public string Accel { get; init; } = "auto";

    /// <summary>
    /// Warm starts: keep a memory snapshot of a booted VM per (assets, image, vCPUs, memory, devices) and restore new
    /// sandboxes from it (see docs/templates.md). Off: every sandbox boots cold.
    /// </summary>
    public bool Templates { get; init; } = true;

    /// <summary>
    /// Warm pool: how many VMs to keep restored from a template, configured and warmed up, for the kind of sandbox
    /// created last (image, vCPUs, memory), so a create of that kind only applies its policy (see docs/templates.md).
    /// 0 keeps none. Needs <see cref="Templates"/>. Each pooled VM counts against admission like a sandbox.
    /// </summary>
    public int WarmPool { get; init; }

    /// <summary>
    /// A stop (SIGTERM, SIGINT) leaves ready sandboxes and their commands running for the next daemon on this state
    /// directory to take over (<c>--on-stop keep</c>, the command line's default), instead of stopping them. False here,
    /// for a daemon embedded in a process (tests), which should leave nothing behind.
    /// </summary>
    public bool KeepSandboxesOnStop { get; init; }

    /// <summary>
    /// A cold boot runs the warm-up command before the sandbox is ready, as a warm start does (see
    /// <see cref="Sandboxes.GuestWarmUp"/>), so its first command costs what a later one does. Off only for the
    /// daemon's tests, whose scripted and raw guests answer the commands each test sends and nothing else.
    /// </summary>
    public bool WarmUpColdBoots { get; init; } = true;

    /// <summary>
    /// How long the warm-up command may take before it is killed: a warm start then falls back to a cold boot, a
    /// cold boot is ready without it.
    /// </summary>
    public TimeSpan WarmUpTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a sandbox may take from VM start to the agent's hello.</summary>
    public TimeSpan LaunchTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public int DefaultVcpus { get; init; } = 2;

    public int DefaultMemoryMiB { get; init; } = 512;

    /// <summary>The image store (metadata.db, rootfs/); defaults to <c>&lt;state&gt;/images</c>.</summary>
    public string? ImagesDir { get; init; }

    /// <summary>Registries spoken to over plain HTTP (loopback registries always are).</summary>
    public IReadOnlyList<string> InsecureRegistries { get; init; } = [];

    /// <summary>Docker-style config.json with registry credentials; null means $DOCKER_CONFIG or ~/.docker/config.json.</summary>
    public string? RegistryConfigPath { get; init; }

    /// <summary>Most bytes an image may unpack to (all layers together); a bound on hostile layers.</summary>
    public long MaxImageBytes { get; init; } = 16L << 30;

    /// <summary>
    /// The largest response message the control API sends, in any protocol (gRPC's MaxSendMessageSize; for Connect the
    /// encoded message, before compression). A larger one is not sent: the call fails with <c>resource_exhausted</c>.
    /// </summary>
    public int MaxResponseMessageBytes { get; init; } = Connect.ControlApiLimits.DefaultMaxResponseMessageBytes;

    /// <summary>Most bytes of output (stdout and stderr together) one execution may produce; the command is killed past it.</summary>
    public long MaxOutputBytes { get; init; } = 1L << 30;

    /// <summary>How long the output of a finished execution is kept (its record stays).</summary>
    public TimeSpan OutputRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How long the records of a sandbox that stopped or failed, and of a finished execution, are kept.</summary>
    public TimeSpan RecordRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Most records of stopped or failed sandboxes kept, however young: a client that creates sandboxes faster than the
    /// retention ages them cannot grow the database (and every listing of it) without bound. The oldest go first.
    /// </summary>
    public int MaxEndedSandboxRecords { get; init; } = 10_000;

    /// <summary>Most records of finished executions kept, however young (the oldest go first, with their output).</summary>
    public int MaxFinishedExecutionRecords { get; init; } = 100_000;

    /// <summary>
    /// Free space the state directory's file system keeps: below it new sandboxes and pulls are refused and running
    /// commands' output stops, so a guest cannot push the host into ENOSPC.
    /// </summary>
    public long MinFreeDiskBytes { get; init; } = 2L << 30;

    /// <summary>Caps on what one sandbox, and all of them together, may take; checked before anything is created.</summary>
    public SandboxLimits Limits { get; init; } = SandboxLimits.ForThisHost();

    /// <summary>How long a sandbox created for one exec (no <c>--keep</c>) survives with no client attached before the daemon removes it.</summary>
    public TimeSpan DetachedGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether sandboxes get a network (<c>--network</c>); in-process test daemons default to none.</summary>
    public DaemonNetworkMode Network { get; init; } = DaemonNetworkMode.Off;

    /// <summary>
    /// Whether sandboxes get IPv6 too (<c>--ipv6</c>): auto when the host has an IPv6 default route, on always, off
    /// never. The block comes from <see cref="Cleanroom.Network.NetworkOptions.Pool6"/> when set (<c>--network-pool6</c>), else
    /// <see cref="Cleanroom.Network.NetworkOptions.DefaultPool6"/>.
    /// </summary>
    public DaemonNetworkMode Ipv6 { get; init; } = DaemonNetworkMode.Auto;

    /// <summary>The address pool, DNS upstreams and names the network uses.</summary>
    public Cleanroom.Network.NetworkOptions NetworkSettings { get; init; } = new();

    /// <summary>
    /// True when <c>--guard-mode</c> was not given (auto): the guard mode in <see cref="NetworkSettings"/> (queue) is
    /// tried, and the proxy guard used instead if this kernel cannot queue (no NFQUEUE, xt_NFQUEUE or ctnetlink).
    /// </summary>
    public bool GuardModeFallback { get; init; }

    /// <summary>
    /// Whether the host gateway runs (<c>--gateway</c>): auto runs it whenever sandboxes have a network, and a gateway
    /// that cannot start is logged and left out (sandboxes then get no gateway variables); on makes that a start
    /// failure; off never runs it.
    /// </summary>
    public DaemonNetworkMode Gateway { get; init; } = DaemonNetworkMode.Auto;

    /// <summary>The gateway's upstream credentials file (<c>--gateway-credentials</c>), or null for none.</summary>
    public string? GatewayCredentialsFile { get; init; }

    /// <summary>A Docker config.json with registry credentials for the gateway's OCI routes (<c>--gateway-registry-auth</c>), or null for none.</summary>
    public string? GatewayRegistryAuthFile { get; init; }

    /// <summary>Upstream base URLs by host name (<c>--gateway-upstream HOST=URL</c>), for mirrors and tests.</summary>
    public IReadOnlyDictionary<string, Uri> GatewayUpstreams { get; init; } = new Dictionary<string, Uri>(StringComparer.Ordinal);

    /// <summary>Most disk the workspace images of all commits may use; least recently used ones go past it (<c>--workspace-store-size</c>, 20 GiB).</summary>
    public long MaxWorkspaceStoreBytes { get; init; } = 20L << 30;

    /// <summary>Largest commit tree (file content) a workspace image is built for (<c>--workspace-max-size</c>, 10 GiB).</summary>
    public long MaxWorkspaceTreeBytes { get; init; } = 10L << 30;

    /// <summary>Most entries (files, directories, links) a commit tree may have for a workspace image (<c>--workspace-max-files</c>).</summary>
    public int MaxWorkspaceTreeEntries { get; init; } = 2_000_000;

    /// <summary>
    /// A tmpfs directory private to the daemon where workspace checkouts are staged before mkfs packs them (much
    /// faster than staging on a busy disk); null stages in the store. Default: one under /dev/shm named after the
    /// state directory, emptied at start (the state directory's lock makes it this daemon's alone).
    /// </summary>
    public string? WorkspaceStagingDir { get; init; }

    /// <summary>The staging directory actually used: <see cref="WorkspaceStagingDir"/>, else the /dev/shm default.</summary>
    public string? EffectiveWorkspaceStagingDir => WorkspaceStagingDir ?? DefaultWorkspaceStaging(StateDir);

    public string EffectiveImagesDir => ImagesDir ?? Path.Combine(StateDir, "images");

    /// <summary>The gateway's content cache (metadata.db, blobs/) (<c>--cache-dir</c>); defaults to <c>&lt;state&gt;/cache</c>.</summary>
    public string? CacheDir { get; init; }

    /// <summary>The content cache's byte budget (<c>--cache-max-size</c>, 10 GiB); least valuable blobs are evicted past it.</summary>
    public long CacheMaxBytes { get; init; } = 10L << 30;

    /// <summary>The cache directory actually used: <see cref="CacheDir"/>, else <c>&lt;state&gt;/cache</c>.</summary>
    public string EffectiveCacheDir => CacheDir ?? Path.Combine(StateDir, "cache");

    public string WorkspacesDir => Path.Combine(StateDir, "workspaces");

    /// <summary>Largest tar one ArchiveSandboxPaths call (cp out of a sandbox, copy-out) may stream from a guest.</summary>
    public long MaxArchiveBytes { get; init; } = 16L << 30;

    /// <summary>Largest file one UploadSandboxFile call may carry (it is staged on the host first).</summary>
    public long MaxUploadBytes { get; init; } = 1L << 30;

    /// <summary>Mirrors of the remote repositories sandboxes were created from (<c>--repo-url</c>).</summary>
    public string RepositoriesDir => Path.Combine(StateDir, "repositories");

    /// <summary>
    /// Variables added to the repository store's git runs on top of the daemon's environment and its user's git
    /// configuration (credential helpers, <c>GIT_CONFIG_*</c> for an <c>http.extraHeader</c>): host credentials that
    /// never reach a guest. In-process daemons (tests) set it; <c>cleanroom serve</c> passes its own environment.
    /// </summary>
    public IReadOnlyDictionary<string, string> RepositoryGitEnvironment { get; init; } = new Dictionary<string, string>();

    private static string? DefaultWorkspaceStaging(string stateDir)
    {
        if (!Directory.Exists("/dev/shm"))
        {
            return null;
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(stateDir)));
        return Path.Combine("/dev/shm", "cleanroom-workspaces-" + Convert.ToHexStringLower(hash)[..16]);
    }
}
