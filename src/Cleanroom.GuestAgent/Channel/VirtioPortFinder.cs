using System.Diagnostics;
using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Channel;

/// <summary>
/// Finds the virtio-serial port by the name QEMU gave it (<c>virtserialport,name=…</c>). There is no udev in the
/// guest, so no /dev/virtio-ports/NAME link: match /sys/class/virtio-ports/*/name and use /dev/&lt;that entry&gt;.
/// </summary>
internal static class VirtioPortFinder
{
    private const string ClassDirectory = "/sys/class/virtio-ports";

    /// <summary>Waits (the driver may still be probing) for the port's device node; throws after the timeout.</summary>
    public static string WaitFor(string portName, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = Find(portName, out var seen);
            if (found is not null)
            {
                return found;
            }

            if (clock.Elapsed > timeout)
            {
                throw new InitException($"no virtio-serial port named '{portName}' after {timeout.TotalSeconds:0} s (ports seen: {(seen.Count == 0 ? "none" : string.Join(", ", seen))}; is virtio_console loaded and the virtserialport attached?)");
            }

            Thread.Sleep(10);
        }
    }

    private static string? Find(string portName, out List<string> seen)
    {
        seen = [];
        if (!Directory.Exists(ClassDirectory))
        {
            return null;
        }

        foreach (var entry in Directory.EnumerateDirectories(ClassDirectory))
        {
            string name;
            try
            {
                name = File.ReadAllText(Path.Combine(entry, "name")).Trim();
            }
            catch (IOException)
            {
                continue;
            }

            var device = "/dev/" + Path.GetFileName(entry);
            seen.Add($"{name}={device}");
            if (name == portName && File.Exists(device))
            {
                return device;
            }
        }

        return null;
    }
}
