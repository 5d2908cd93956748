using System.Net;

namespace Cleanroom.Network.Dns;

/// <summary>The host's resolvers, from <c>nameserver</c> lines of resolv.conf (port 53).</summary>
public static class ResolvConf
{
    public static IReadOnlyList<IPEndPoint> Nameservers(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        return File.ReadLines(path)
            .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length >= 2 && words[0] == "nameserver")
            .Select(words => IPAddress.TryParse(words[1].Split('%')[0], out var address) ? new IPEndPoint(address, 53) : null)
            .OfType<IPEndPoint>()
            .Take(3)
            .ToList();
    }
}
