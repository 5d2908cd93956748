using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Cleanroom.HostProcesses;
using Cleanroom.Network.Conntrack;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Firewall;
using Cleanroom.Network.Links;
using Cleanroom.Network.Nflog;
using Cleanroom.Network.Taps;
using Cleanroom.Policy;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network;

/// <summary>
/// Owns every sandbox's network on this host: allocates links, creates TAP devices, keeps the nftables table in step
/// with the live sandboxes, and opens the firewall for what the DNS filter allows. One instance per daemon.
/// </summary>
public sealed partial class SandboxNetworks : IDnsClientDirectory, IEgressAllowance, Guard.IDestinationCheck, IAsyncDisposable
{
    /// <summary>Most destinations one sandbox may have learned from DNS at a time.</summary>
    public const int MaxLearnedPerSandbox = 4096;

    /// <summary>How long a learned destination stays open at least, even when the answer's TTL is shorter.</summary>
    public static readonly TimeSpan MinimumLearnedLifetime = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConntrackTimeout = TimeSpan.FromSeconds(2);

    private int _disposed;
    private readonly NetworkOptions _options;
    private readonly FirewallRules _rules;
    private readonly NftExecutor _nft;
    private readonly LinkAddressPool _pool;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Attached> _bySandbox = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, Attached> _byGuestAddress = new();
    private readonly ConcurrentDictionary<int, string> _byInterface = new();
    private readonly Dictionary<string, int> _reserved = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _ownsNft;
    private int _nextIndex;
    private Task _sweeper = Task.CompletedTask;

    public SandboxNetworks(NetworkOptions options, ILogger logger, NftExecutor? nft = null)
    {
        _options = options;
        _rules = new FirewallRules(options);
        _ownsNft = nft is null;
        _nft = nft ?? new NftExecutor();
        _pool = new LinkAddressPool(options.Pool, options.TapPrefix, options.Pool6);
        _logger = logger;
    }

    public NetworkOptions Options => _options;

    /// <summary>
    /// Replaces whatever an earlier daemon left in Cleanroom's table with an empty one, turns on forwarding (IPv6 too
    /// when guests have it, see <see cref="HostIpv6"/>) and starts expiring learned destinations. TAPs need no
    /// reconciling: they die with their VMs.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await _nft.ApplyAsync(_rules.Base(), ct);
        if (_options.GuardMode == GuardMode.Queue)
        {
            // nft's own `queue` statement is missing from some kernels; see QueueRuleInstaller.
            Guard.Queue.QueueRuleInstaller.Install(_options.TableName, _options.QueueNumber);
        }

        await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", "1\n", ct);
        if (_options.Pool6 is not null)
        {
            foreach (var change in await HostIpv6.EnableForwardingAsync(ct))
            {
                LogSysctlChanged(_logger, change);
            }
        }

        _sweeper = SweepLoopAsync(_stop.Token);
    }

    /// <summary>
    /// Stops redirecting guests' port 8170 to <see cref="NetworkOptions.GatewayPort"/>: the gateway could not start,
    /// and whatever else holds that port must not become reachable from guests.
    /// </summary>
    public async Task DisableGatewayAsync(CancellationToken ct)
    {
        var script = _rules.WithoutGateway();
        if (script.Length > 0)
        {
            await _nft.ApplyAsync(script, ct);
        }
    }

    /// <summary>
    /// Gives a sandbox its link, TAP and firewall chains. On failure nothing of it is left. The caller hands
    /// <see cref="SandboxNetwork.Tap"/> to the VMM and must call <see cref="DetachAsync"/> when the sandbox goes.
    /// </summary>
    public async Task<SandboxNetwork> AttachAsync(string sandboxId, NetworkPolicy policy, bool allowAll, CancellationToken ct)
    {
        var link = Allocate(sandboxId);
        var attached = NewAttachment(sandboxId, link, policy, allowAll);
        Microsoft.Win32.SafeHandles.SafeFileHandle? tap = null;
        Task<bool>? forgetting = null;
        var rulesAttempted = false;
        var flowsLeft = false;
        try
        {
            tap = TapDevice.Create(link.TapName);
            var interfaceIndex = InterfaceIndex(link.TapName);

            // The address's old flows are forgotten beside the host side's set-up: no VM holds this TAP yet, so nothing
            // can open a flow from the address meanwhile, and both are done before the VM starts.
            forgetting = ForgetFlowsAsync(link);
            await ConfigureHostSideAsync(link, ct);
            // Attempted, not applied: a killed nft may still have committed, so a failure below always cleans up.
            rulesAttempted = true;
            await _nft.ApplyAsync(_rules.AddSandbox(new SandboxFirewall(link, policy, allowAll)), CancellationToken.None);
            if (!await forgetting)
            {
                // Kept from every later sandbox until the daemon restarts (quarantined below), like a link whose rules
                // could not be removed: the next holder would inherit the connections.
                flowsLeft = true;
                throw new InvalidOperationException($"the address {link.GuestAddress} still has tracked connections of its previous sandbox; it is set aside, try again");
            }

            ct.ThrowIfCancellationRequested();
            Register(attached, interfaceIndex);
            return new SandboxNetwork(link, tap);
        }
        catch
        {
            if (forgetting is not null)
            {
                // The address is not handed out again while a conntrack run on it is still going.
                await ((Task)forgetting).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var clean = !rulesAttempted || await TryRemoveRulesAsync(link);
            tap?.Dispose();
            Free(sandboxId, quarantine: !clean || flowsLeft);
            throw;
        }
    }

    /// <summary>
    /// Takes over the network of a sandbox an earlier daemon attached, whose VM still runs and holds its TAP (the
    /// host end keeps its addresses with it): the link with <paramref name="guestAddress"/> is reserved again and the
    /// sandbox's chains are added to the table <see cref="StartAsync"/> rebuilt. Destinations the sandbox had learned
    /// from DNS are not restored: the guest's next lookup opens them again. Its flows are left alone, so its open
    /// connections that the rules still allow go on. On failure nothing of it is left; call <see cref="DetachAsync"/>
    /// when the sandbox goes.
    /// </summary>
    public async Task ReattachAsync(string sandboxId, IPAddress guestAddress, NetworkPolicy policy, bool allowAll, CancellationToken ct)
    {
        var link = Reserve(sandboxId, guestAddress);
        var rulesAttempted = false;
        try
        {
            var interfaceIndex = InterfaceIndex(link.TapName);
            rulesAttempted = true;
            await _nft.ApplyAsync(_rules.AddSandbox(new SandboxFirewall(link, policy, allowAll)), CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            Register(NewAttachment(sandboxId, link, policy, allowAll), interfaceIndex);
        }
        catch
        {
            var clean = !rulesAttempted || await TryRemoveRulesAsync(link);
            Free(sandboxId, quarantine: !clean);
            throw;
        }
    }

    /// <summary>
    /// Gives an attached sandbox another policy: its chains are replaced in one nft transaction (no moment with none,
    /// or with both), its DNS filter and learned destinations start afresh, and its tracked flows are forgotten so
    /// nothing the old policy let through stays open. Used for a VM from the warm pool, which waits deny-all until a
    /// sandbox takes it. Throws when the sandbox has no network; on an nft failure the old chains stay.
    /// </summary>
    public async Task ChangePolicyAsync(string sandboxId, NetworkPolicy policy, bool allowAll)
    {
        Attached? old;
        lock (_gate)
        {
            _bySandbox.TryGetValue(sandboxId, out old);
        }

        if (old is null || old.Detached)
        {
            throw new InvalidOperationException($"sandbox {sandboxId} has no network to change");
        }

        var link = old.Link;
        await _nft.ApplyAsync(_rules.RemoveSandbox(link.Index, link.TapName) + _rules.AddSandbox(new SandboxFirewall(link, policy, allowAll)), CancellationToken.None);

        // Answers the old filter was still opening must not land in the new sandbox's set.
        old.Detached = true;
        Register(NewAttachment(sandboxId, link, policy, allowAll), InterfaceIndex(link.TapName));
        if (!await ForgetFlowsAsync(link))
        {
            throw new InvalidOperationException($"the address {link.GuestAddress} still has tracked connections its old policy let through");
        }
    }

    private static Attached NewAttachment(string sandboxId, SandboxLink link, NetworkPolicy policy, bool allowAll) =>
        new(sandboxId, link, new DnsClient(sandboxId, policy, allowAll, Ipv6: link.GuestAddress6 is not null, GatewayAddress: link.HostAddress, GatewayAddress6: link.HostAddress6), new LearnedAddressBook(MaxLearnedPerSandbox));

    private void Register(Attached attached, int interfaceIndex)
    {
        lock (_gate)
        {
            _bySandbox[attached.SandboxId] = attached;
        }

        _byGuestAddress[attached.Link.GuestAddress] = attached;
        if (attached.Link.GuestAddress6 is { } guest6)
        {
            _byGuestAddress[guest6] = attached;
        }

        _byInterface[interfaceIndex] = attached.SandboxId;
    }

    /// <summary>
    /// Deletes TAP devices with Cleanroom's prefix that no live sandbox holds: at start-up, after stray VMs were reaped,
    /// that is every one of them. A TAP normally dies with its VM; one that outlived it was made persistent by a
    /// compromised VMM, and must not be handed to the next sandbox with that link. Returns the names deleted.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveStaleTapsAsync(CancellationToken ct)
    {
        var listing = await HostCommand.RunAsync("ip", ["-o", "link", "show"], ToolTimeout, ct);
        HashSet<string> held;
        lock (_gate)
        {
            held = [.. _bySandbox.Values.Select(a => a.Link.TapName)];
        }

        var stale = listing.Stdout.Split('\n')
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length == 3)
            .Select(parts => parts[1].Trim().Split('@')[0])
            .Where(name => name.StartsWith(_options.TapPrefix, StringComparison.Ordinal) && !held.Contains(name))
            .ToList();
        foreach (var name in stale)
        {
            await HostCommand.TryRunAsync("ip", ["link", "delete", name], ToolTimeout, ct);
        }

        return stale;
    }

    /// <summary>Removes a sandbox's chains and forgets its flows; its TAP went with its VM. Idempotent.</summary>
    public async Task DetachAsync(string sandboxId)
    {
        Attached? attached;
        lock (_gate)
        {
            _bySandbox.TryGetValue(sandboxId, out attached);
        }

        if (attached is null)
        {
            return;
        }

        _byGuestAddress.TryRemove(attached.Link.GuestAddress, out _);
        if (attached.Link.GuestAddress6 is { } guest6)
        {
            _byGuestAddress.TryRemove(guest6, out _);
        }

        attached.Detached = true;
        foreach (var (index, _) in _byInterface.Where(e => e.Value == sandboxId).ToList())
        {
            _byInterface.TryRemove(index, out _);
        }

        var clean = await TryRemoveRulesAsync(attached.Link);
        clean &= await ForgetFlowsAsync(attached.Link); // entries left: the address is not handed out again either

        // The TAP goes with its VM, unless a compromised VMM made it persistent (TUNSETPERSIST needs no privilege).
        await HostCommand.TryRunAsync("ip", ["link", "delete", attached.Link.TapName], ToolTimeout, CancellationToken.None);
        Free(sandboxId, quarantine: !clean);
    }

    /// <summary>
    /// The sandbox whose TAP has this interface index. Denied packets are attributed this way: the kernel sets the
    /// input interface, while a source address is whatever the guest wrote.
    /// </summary>
    public string? SandboxOfInterface(int interfaceIndex) => _byInterface.GetValueOrDefault(interfaceIndex);

    /// <summary>True while <paramref name="address"/>:<paramref name="port"/> is open to the sandbox by an allowed DNS answer.</summary>
    public bool IsLearned(string sandboxId, IPAddress address, int port)
    {
        Attached? attached;
        lock (_gate)
        {
            _bySandbox.TryGetValue(sandboxId, out attached);
        }

        if (attached is null)
        {
            return false;
        }

        lock (attached.Book)
        {
            return attached.Book.Holds(new LearnedDestination(Normalize(address), port), DateTimeOffset.UtcNow);
        }
    }

    public DnsClient? Find(IPAddress source) =>
        _byGuestAddress.TryGetValue(Normalize(source), out var attached) ? attached.Client : null;

    /// <summary>
    /// Opens the allowed ports of <paramref name="name"/> to the answer's addresses, for the answer's TTL (at least
    /// <see cref="MinimumLearnedLifetime"/>), before the DNS filter answers.
    /// </summary>
    public async Task AllowAsync(DnsClient client, string name, IReadOnlyList<ResolvedAddress> addresses, CancellationToken ct)
    {
        if (client.AllowAll || addresses.Count == 0)
        {
            return; // allow-all sandboxes pass everything that is not always blocked; nothing to learn
        }

        Attached? attached;
        lock (_gate)
        {
            _bySandbox.TryGetValue(client.SandboxId, out attached);
        }

        if (attached is null)
        {
            throw new InvalidOperationException($"sandbox {client.SandboxId} has no network any more");
        }

        if (attached.Detached)
        {
            throw new InvalidOperationException($"sandbox {client.SandboxId} has no network any more");
        }

        var ports = client.Policy.AllowedPorts(name);

        // Never learn host-local, link-local, loopback or pool addresses: a name that resolves to them (DNS rebinding)
        // must not open a way to the host or to other sandboxes. The answer still reaches the guest; connecting fails.
        addresses = addresses.Where(a => !IsBlocked(Normalize(a.Address))).ToList();
        if (addresses.Count == 0)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        List<LearnedDestination> added, evicted;
        lock (attached.Book)
        {
            var ttl = addresses.Max(a => a.Ttl);
            var until = now + (ttl > MinimumLearnedLifetime ? ttl : MinimumLearnedLifetime);
            // Deny rules on addresses beat a name's allow rule: such pairs are never learned (TCP to learned pairs goes
            // to the connection guard, past the firewall's own deny rules).
            var destinations = addresses
                .SelectMany(a => ports.Select(p => new LearnedDestination(Normalize(a.Address), p)))
                .Where(d => client.Policy.Evaluate(d.Address.ToString(), d.Port).Source != Cleanroom.Policy.NetworkDecisionSource.DenyRule);
            (added, evicted) = attached.Book.Learn(destinations, until);
        }

        try
        {
            // Not cancelled by the query's deadline: a killed nft leaves the set in an unknown state.
            await _nft.ApplyAsync(_rules.RemoveLearned(attached.Link.Index, evicted) + _rules.AddLearned(attached.Link.Index, added), CancellationToken.None);
        }
        catch
        {
            // The book must not claim what the kernel set may lack: the next answer tries again.
            lock (attached.Book)
            {
                attached.Book.Forget(added);
            }

            throw;
        }
    }

    /// <summary>
    /// Set when the daemon stops with its sandboxes kept running: disposing then leaves their TAPs and the table (their
    /// rules stay in force) for the next daemon, which rebuilds the table and takes the sandboxes over.
    /// </summary>
    public bool KeepOnDispose { get; set; }

    public async ValueTask DisposeAsync()
    {
        // Owners may dispose twice (the daemon at shutdown, then its DI container); the second call must not throw.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _sweeper;
        if (KeepOnDispose)
        {
            _stop.Dispose();
            if (_ownsNft)
            {
                _nft.Dispose();
            }

            return;
        }

        List<string> sandboxes;
        lock (_gate)
        {
            sandboxes = [.. _bySandbox.Keys];
        }

        foreach (var id in sandboxes)
        {
            await DetachAsync(id);
        }

        // A stopped daemon leaves no rules behind (the next start would replace them anyway).
        try
        {
            await _nft.ApplyAsync(_rules.DeleteTable(), CancellationToken.None);
        }
        catch (HostCommandException ex)
        {
            LogRemoveFailed(_logger, "the table", ex.Message);
        }

        _stop.Dispose();
        if (_ownsNft)
        {
            _nft.Dispose();
        }
    }

    private SandboxLink Allocate(string sandboxId)
    {
        lock (_gate)
        {
            if (_bySandbox.ContainsKey(sandboxId) || _reserved.ContainsKey(sandboxId))
            {
                throw new InvalidOperationException($"sandbox {sandboxId} already has a network");
            }

            var used = _reserved.Values.ToHashSet();
            for (var i = 0; i < _pool.Capacity; i++)
            {
                // Round robin, so a link (and its conntrack entries) is not handed to the next sandbox at once.
                var index = (_nextIndex + i) % _pool.Capacity;
                if (!used.Contains(index))
                {
                    _nextIndex = index + 1;
                    _reserved[sandboxId] = index;
                    return _pool.LinkAt(index, sandboxId);
                }
            }

            throw new InvalidOperationException($"the network pool {_pool.Pool} has no free link (all {_pool.Capacity} are in use)");
        }
    }

    /// <summary>Reserves the link whose guest end is <paramref name="guestAddress"/> for a sandbox taken over after a restart.</summary>
    private SandboxLink Reserve(string sandboxId, IPAddress guestAddress)
    {
        lock (_gate)
        {
            if (_bySandbox.ContainsKey(sandboxId) || _reserved.ContainsKey(sandboxId))
            {
                throw new InvalidOperationException($"sandbox {sandboxId} already has a network");
            }

            for (var index = 0; index < _pool.Capacity; index++)
            {
                var link = _pool.LinkAt(index, sandboxId);
                if (link.GuestAddress.Equals(guestAddress))
                {
                    if (_reserved.ContainsValue(index))
                    {
                        throw new InvalidOperationException($"the link of {guestAddress} is held by another sandbox");
                    }

                    _reserved[sandboxId] = index;
                    _nextIndex = Math.Max(_nextIndex, index + 1);
                    return link;
                }
            }

            throw new InvalidOperationException($"{guestAddress} is not in the network pool {_pool.Pool} any more");
        }
    }

    /// <param name="quarantine">
    /// The link's chains could not be removed: keep its index out of use (under a tombstone) rather than hand a later
    /// sandbox chains that drop its packets. The next daemon start rebuilds the table.
    /// </param>
    private void Free(string sandboxId, bool quarantine = false)
    {
        lock (_gate)
        {
            if (quarantine && _reserved.TryGetValue(sandboxId, out var index))
            {
                _reserved["quarantined:" + sandboxId] = index;
            }

            _reserved.Remove(sandboxId);
            _bySandbox.Remove(sandboxId);
        }
    }

    private static async Task ConfigureHostSideAsync(SandboxLink link, CancellationToken ct)
    {
        // The host end takes its address before the link comes up: no router advertisement or autoconfiguration
        // ever runs on it, and "nodad" makes the IPv6 address usable at once (nothing else is on the link).
        var ipv6 = $"/proc/sys/net/ipv6/conf/{link.TapName}/";
        if (Directory.Exists(ipv6))
        {
            if (link.HostAddress6 is null)
            {
                await File.WriteAllTextAsync(ipv6 + "disable_ipv6", "1\n", ct); // no IPv6: the guard drops it anyway
            }
            else
            {
                await File.WriteAllTextAsync(ipv6 + "accept_ra", "0\n", ct);
                await File.WriteAllTextAsync(ipv6 + "autoconf", "0\n", ct);
            }
        }

        var commands = new StringBuilder();
        commands.Append(CultureInfo.InvariantCulture, $"address add {link.HostAddress}/{link.PrefixLength} dev {link.TapName}\n");
        if (link.HostAddress6 is { } host6)
        {
            commands.Append(CultureInfo.InvariantCulture, $"address add {host6}/{LinkAddressPool.LinkPrefixLength6} dev {link.TapName} nodad\n");
        }

        commands.Append(CultureInfo.InvariantCulture, $"link set dev {link.TapName} up\n");
        await HostCommand.RunAsync("ip", ["-batch", "-"], ToolTimeout, ct, commands.ToString());
    }

    /// <summary>
    /// Drops conntrack entries of an address a sandbox had: an "established" flow of the previous holder must not
    /// carry over to the next one. No entries is not an error. Both families, over ctnetlink in this process (see
    /// <see cref="ConntrackFlows"/>). False when entries may be left (a guest that filled the table past the budget, or
    /// a dump or delete that failed): the address must then not go to another sandbox. A host whose kernel offers no
    /// ctnetlink socket at all is only logged, as a missing conntrack tool always was.
    /// </summary>
    private Task<bool> ForgetFlowsAsync(SandboxLink link) =>
        Task.Run(() =>
        {
            var complete = true;
            foreach (var address in new[] { link.GuestAddress, link.GuestAddress6 })
            {
                if (address is null)
                {
                    continue;
                }

                try
                {
                    ConntrackFlows.ForgetSource(address, ConntrackTimeout);
                }
                catch (ConntrackFlowsRemainException ex)
                {
                    LogConntrackFailed(_logger, ex.Message);
                    complete = false;
                }
                catch (NflogException ex)
                {
                    LogConntrackFailed(_logger, ex.Message);
                }
            }

            return complete;
        });

    private async Task<bool> TryRemoveRulesAsync(SandboxLink link)
    {
        try
        {
            await _nft.ApplyAsync(_rules.RemoveSandbox(link.Index, link.TapName), CancellationToken.None);
            return true;
        }
        catch (HostCommandException ex)
        {
            LogRemoveFailed(_logger, link.TapName, ex.Message);
            return false;
        }
    }

    private async Task SweepLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(SweepInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                List<Attached> live;
                lock (_gate)
                {
                    live = [.. _bySandbox.Values];
                }

                foreach (var attached in live)
                {
                    List<LearnedDestination> expired;
                    lock (attached.Book)
                    {
                        expired = attached.Book.Expire(DateTimeOffset.UtcNow);
                    }

                    try
                    {
                        await _nft.ApplyAsync(_rules.RemoveLearned(attached.Link.Index, expired), ct);
                    }
                    catch (HostCommandException ex)
                    {
                        // The sandbox may have gone between the snapshot and now; its set went with it.
                        LogSweepFailed(_logger, attached.SandboxId, ex.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// if_nametoindex(3) rather than /sys/class/net: sysfs shows the namespace it was mounted in, which need not be
    /// the daemon's (a daemon started with nsenter).
    /// </summary>
    private static int InterfaceIndex(string name)
    {
        var index = IfNameToIndex(name);
        return index > 0 ? (int)index : throw new IOException($"interface {name} has no index: {System.Runtime.InteropServices.Marshal.GetLastPInvokeErrorMessage()}");
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);

    private bool IsBlocked(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? _options.Pool6 is not { } pool6 || pool6.Contains(address) || FirewallRules.AlwaysBlockedNetworks6.Any(range => range.Contains(address))
            : _options.Pool.Contains(address) || FirewallRules.AlwaysBlockedNetworks4.Any(range => range.Contains(address));

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox IPv6: {Change}")]
    private static partial void LogSysctlChanged(ILogger logger, string change);

    [LoggerMessage(Level = LogLevel.Warning, Message = "conntrack could not forget a sandbox's flows: {Message}")]
    private static partial void LogConntrackFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "removing the firewall chains of {Tap} failed: {Message}")]
    private static partial void LogRemoveFailed(ILogger logger, string tap, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "expiring learned destinations of {SandboxId} failed: {Message}")]
    private static partial void LogSweepFailed(ILogger logger, string sandboxId, string message);

    private sealed record Attached(string SandboxId, SandboxLink Link, DnsClient Client, LearnedAddressBook Book)
    {
        /// <summary>Set when detaching starts: answers still in flight must not touch a link that may be reused.</summary>
        public volatile bool Detached;
    }
}
