using System.Diagnostics;
using System.Globalization;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>
/// lstat of a path as coreutils' stat reports it: an independent check of what the applier's own native calls did
/// (same inode for hard links, owners, mode bits, device numbers, times).
/// </summary>
internal sealed record NodeInfo(ulong Inode, int Links, int Uid, int Gid, uint RawMode, long ModificationSeconds, int Major, int Minor)
{
    public uint Type => RawMode & 0xF000;

    public uint Permissions => RawMode & 0xFFF;

    public static NodeInfo Of(string path)
    {
        var start = new ProcessStartInfo("stat", ["-c", "%i %h %u %g %f %Y %t %T", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"stat {path}: {error}");
        var f = output.Trim().Split(' ');
        return new NodeInfo(
            ulong.Parse(f[0], CultureInfo.InvariantCulture),
            int.Parse(f[1], CultureInfo.InvariantCulture),
            int.Parse(f[2], CultureInfo.InvariantCulture),
            int.Parse(f[3], CultureInfo.InvariantCulture),
            uint.Parse(f[4], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            long.Parse(f[5], CultureInfo.InvariantCulture),
            int.Parse(f[6], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            int.Parse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }
}
