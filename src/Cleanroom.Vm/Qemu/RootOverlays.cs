using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Makes each cold-booted VM's copy-on-write overlay of its root image. An empty qcow2 overlay depends only on its
/// base's path, format and size (qemu-img writes no time, id or overlay path into it), so the first overlay for a base
/// is made by qemu-img and its bytes are kept: every later one for that base is the same bytes written directly. That
/// takes a process start (about 5 ms of wall time and as much CPU, measured with perf) off every cold create. A base
/// whose size or modification time changed is a new base and gets a new overlay from qemu-img.
/// </summary>
internal sealed class RootOverlays
{
    /// <summary>Bases kept at most; past it the kept ones are dropped and made again by qemu-img as they come back.</summary>
    internal const int MaxKept = 16;

    /// <summary>
    /// An empty overlay is a few clusters (192 KiB for a 512 MiB base); anything larger than this is not what qemu-img
    /// makes for an empty overlay and is not kept.
    /// </summary>
    internal const long MaxKeptBytes = 4 << 20;

    private readonly ConcurrentDictionary<BaseImage, byte[]> _kept = new();
    private readonly Func<string> _qemuImgPath;

    /// <param name="qemuImgPath">The qemu-img to run for a base not seen yet; asked for only then.</param>
    public RootOverlays(Func<string> qemuImgPath)
    {
        _qemuImgPath = qemuImgPath;
    }

    /// <summary>How many overlays qemu-img made (the rest were written from kept bytes).</summary>
    public int MadeByQemuImg => Volatile.Read(ref _madeByQemuImg);

    private int _madeByQemuImg;

    /// <summary>
    /// Creates <paramref name="overlayPath"/> (which must not exist) on top of <paramref name="baseImagePath"/>.
    /// <paramref name="reusable"/> false is for a base made for this VM alone (a grown copy in its work directory):
    /// qemu-img makes the overlay and nothing is kept. A write from kept bytes that fails leaves no file behind; what a
    /// failed qemu-img leaves goes with the VM's work directory, as before.
    /// </summary>
    public async Task CreateAsync(string baseImagePath, string overlayPath, bool reusable, CancellationToken ct)
    {
        var image = new FileInfo(Path.GetFullPath(baseImagePath));
        if (!image.Exists)
        {
            throw new VmException($"Root image {baseImagePath} does not exist.");
        }

        var key = new BaseImage(image.FullName, image.Length, image.LastWriteTimeUtc);
        if (reusable && _kept.TryGetValue(key, out var bytes))
        {
            Write(overlayPath, bytes);
            return;
        }

        await RootDisk.CreateOverlayAsync(_qemuImgPath(), image.FullName, overlayPath, ct);
        Interlocked.Increment(ref _madeByQemuImg);
        if (!reusable || new FileInfo(overlayPath).Length > MaxKeptBytes)
        {
            return;
        }

        var made = await File.ReadAllBytesAsync(overlayPath, ct);
        if (VirtualSize(made) != key.Length)
        {
            return; // the base changed while qemu-img read it: this overlay is right for this VM only
        }

        if (_kept.Count >= MaxKept)
        {
            _kept.Clear();
        }

        _kept[key] = made;
    }

    private static void Write(string path, byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        try
        {
            file.Write(bytes);
            file.Flush();
        }
        catch
        {
            // A short write (a full disk) must not leave a truncated overlay that QEMU would take for a good one.
            File.Delete(path);
            throw;
        }
    }

    private static ReadOnlySpan<byte> QcowMagic => [0x51, 0x46, 0x49, 0xFB]; // "QFI\xfb"

    /// <summary>The virtual disk size a qcow2 header records (big-endian at offset 24), or -1 for anything else.</summary>
    internal static long VirtualSize(ReadOnlySpan<byte> overlay) =>
        overlay.Length >= 32 && overlay[..4].SequenceEqual(QcowMagic) ? (long)BinaryPrimitives.ReadUInt64BigEndian(overlay[24..]) : -1;

    private readonly record struct BaseImage(string Path, long Length, DateTime Modified);
}
