using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// A VM's copy-on-write root disk: a qcow2 overlay whose backing file is a shared raw ext4 image. The base is only
/// ever read (QEMU opens backing files read-only), so many sandboxes can share it and a crash cannot dirty it.
/// </summary>
public static class RootDisk
{
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// qemu-img arguments for the overlay. The base path is made absolute because qemu-img records it verbatim and
    /// resolves a relative one against the overlay's directory, not ours.
    /// </summary>
    public static IReadOnlyList<string> CreateArguments(string baseImagePath, string overlayPath) =>
        ["create", "-q", "-f", "qcow2", "-b", Path.GetFullPath(baseImagePath), "-F", "raw", overlayPath];

    /// <summary>Creates <paramref name="overlayPath"/> on top of <paramref name="baseImagePath"/> (takes ~10 ms).</summary>
    public static async Task CreateOverlayAsync(string qemuImgPath, string baseImagePath, string overlayPath, CancellationToken ct)
    {
        if (!File.Exists(baseImagePath))
        {
            throw new VmException($"Root image {baseImagePath} does not exist.");
        }

        await HostCommand.RunAsync(qemuImgPath, CreateArguments(baseImagePath, overlayPath), CreateTimeout, ct);
    }
}
