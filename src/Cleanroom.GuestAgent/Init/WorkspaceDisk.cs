using System.Diagnostics;
using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Makes the guest kernel see the workspace disk afresh. A template is snapshotted with a placeholder disk under the
/// workspace serial; a sandbox restored from it gets its own disk there, of another size and content, but the kernel
/// still holds the placeholder's capacity and cached blocks. Unbinding the disk's virtio device from virtio_blk and
/// binding it again drops both and reads the capacity anew.
/// </summary>
internal static class WorkspaceDisk
{
    private const string SysBlock = "/sys/block";
    private const string Driver = "/sys/bus/virtio/drivers/virtio_blk";
    private static readonly TimeSpan ReappearTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>Returns null once the disk is back (under any name), or what failed.</summary>
    public static string? Reload()
    {
        var device = WorkspaceMount.FindBySerial(SysBlock, WorkspaceMount.DiskSerial);
        if (device is null)
        {
            return $"workspace: no disk with serial {WorkspaceMount.DiskSerial} to reload";
        }

        var link = $"{SysBlock}/{Path.GetFileName(device)}/device";
        string? virtio;
        try
        {
            virtio = Path.GetFileName(new FileInfo(link).LinkTarget);
        }
        catch (IOException ex)
        {
            return $"workspace: cannot read {link}: {ex.Message}";
        }

        if (virtio is null || !IsVirtioDeviceName(virtio))
        {
            return $"workspace: {link} does not lead to a virtio device";
        }

        var error = WriteAttribute($"{Driver}/unbind", virtio) ?? WriteAttribute($"{Driver}/bind", virtio);
        if (error is not null)
        {
            return error;
        }

        // Probing runs in the bind write's context, but the disk's sysfs entries may trail it: a short bounded poll.
        var started = Stopwatch.GetTimestamp();
        while (WorkspaceMount.FindBySerial(SysBlock, WorkspaceMount.DiskSerial) is null)
        {
            if (Stopwatch.GetElapsedTime(started) > ReappearTimeout)
            {
                return $"workspace: the disk with serial {WorkspaceMount.DiskSerial} did not come back within {ReappearTimeout.TotalSeconds:0} s after rebinding {virtio}";
            }

            Thread.Sleep(PollInterval);
        }

        AgentLog.Info($"workspace: rebound {virtio} ({device}) to re-read the disk");
        return null;
    }

    /// <summary>Writes one sysfs attribute with a single write(2), as the kernel expects.</summary>
    private static unsafe string? WriteAttribute(string path, string value)
    {
        var fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return $"workspace: cannot open {path}: {Errno.DescribeLast()}";
        }

        try
        {
            var bytes = Encoding.ASCII.GetBytes(value);
            fixed (byte* pointer = bytes)
            {
                return LibC.Write(fd, pointer, bytes.Length) == bytes.Length ? null : $"workspace: cannot write {value} to {path}: {Errno.DescribeLast()}";
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary><c>virtioN</c>: the only kind of name written to the driver's bind files.</summary>
    internal static bool IsVirtioDeviceName(string name) =>
        name.Length > 6 && name.StartsWith("virtio", StringComparison.Ordinal) && name.AsSpan(6).IndexOfAnyExceptInRange('0', '9') < 0;
}
