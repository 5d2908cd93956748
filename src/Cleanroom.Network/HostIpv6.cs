namespace Cleanroom.Network;

/// <summary>
/// What the host's own IPv6 looks like to the daemon (in its network namespace): whether it has a way out, and turning
/// on the forwarding that sandboxes' IPv6 egress needs without breaking the host's own autoconfiguration.
/// </summary>
public static class HostIpv6
{
    private const string ConfDirectory = "/proc/sys/net/ipv6/conf";

    /// <summary>
    /// True when IPv6 is enabled and the routing table has a default route (<c>/proc/net/ipv6_route</c>: destination
    /// all zeros, prefix length 0). Without one, guests' IPv6 could go nowhere, so they get none.
    /// </summary>
    public static bool HasDefaultRoute(string routeTable = "/proc/net/ipv6_route", string disabled = ConfDirectory + "/all/disable_ipv6")
    {
        try
        {
            if (!File.Exists(routeTable) || (File.Exists(disabled) && File.ReadAllText(disabled).Trim() == "1"))
            {
                return false;
            }

            return File.ReadLines(routeTable)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Any(fields => fields.Length >= 10
                    && fields[0] == new string('0', 32) && fields[1] == "00"
                    && fields[9] != "lo"
                    && (Convert.ToUInt32(fields[8], 16) & RouteFlagReject) == 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Turns on IPv6 forwarding. Forwarding makes every interface a router, and a router ignores router advertisements
    /// unless <c>accept_ra</c> is 2: so interfaces that accept them today (1) are raised to 2 first, and the host keeps
    /// its autoconfigured addresses and default route. Returns what was changed, for the log; nothing when forwarding
    /// was already on.
    /// </summary>
    public static async Task<IReadOnlyList<string>> EnableForwardingAsync(CancellationToken ct, string conf = ConfDirectory)
    {
        var forwarding = Path.Combine(conf, "all", "forwarding");
        if ((await File.ReadAllTextAsync(forwarding, ct)).Trim() == "1")
        {
            return [];
        }

        var changes = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(conf).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(directory);
            var acceptRa = Path.Combine(directory, "accept_ra");
            if (name is "all" or "lo" || !File.Exists(acceptRa) || (await File.ReadAllTextAsync(acceptRa, ct)).Trim() != "1")
            {
                continue;
            }

            await File.WriteAllTextAsync(acceptRa, "2\n", ct);
            changes.Add($"{name}: accept_ra 1 -> 2 (keeps router advertisements with forwarding on)");
        }

        await File.WriteAllTextAsync(forwarding, "1\n", ct);
        changes.Add("net.ipv6.conf.all.forwarding 0 -> 1");
        return changes;
    }

    /// <summary>RTF_REJECT: an unreachable route, which is no way out.</summary>
    private const uint RouteFlagReject = 0x0200;
}
