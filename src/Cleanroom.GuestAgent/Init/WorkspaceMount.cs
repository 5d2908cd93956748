using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Mounts the repository workspace the host attached as a read-only disk (its ext4 image of one commit, shared by every
/// sandbox on that commit) under a writable overlay whose changes live on the sandbox's own root disk. The disk is
/// found by its serial, not its name: virtio-mmio does not promise the order devices appear in.
/// </summary>
internal static class WorkspaceMount
{
    /// <summary>The serial the host gives the workspace disk (QEMU <c>serial=</c>).</summary>
    public const string DiskSerial = "cr-workspace";

    private const string Lower = "/run/cleanroom/workspace.lower";
    private const string Changes = "/var/lib/cleanroom/workspace";

    /// <summary>Mounts the workspace at <paramref name="path"/>; throws <see cref="InitException"/> saying what failed.</summary>
    public static void Mount(string path, string sysBlock = "/sys/block")
    {
        var device = FindBySerial(sysBlock, DiskSerial)
            ?? throw new InitException($"workspace: the host asked for {path} but attached no disk with serial {DiskSerial}");

        // nodev, nosuid: the image holds whatever the repository holds, and a repository is not trusted to carry devices
        // or set-id programs into the guest's root.
        Mounts.Mount(device, Lower, "ext4", LibC.MS_RDONLY | LibC.MS_NODEV | LibC.MS_NOSUID);
        Directory.CreateDirectory(Changes + "/upper");
        Directory.CreateDirectory(Changes + "/work");
        Mounts.Mount("overlay", path, "overlay", LibC.MS_NODEV | LibC.MS_NOSUID, $"lowerdir={Lower},upperdir={Changes}/upper,workdir={Changes}/work");
        AgentLog.Info($"workspace: {device} at {path} (changes on the root disk)");
    }

    /// <summary>The <c>/dev</c> path of the block device whose serial is <paramref name="serial"/>, or null.</summary>
    internal static string? FindBySerial(string sysBlock, string serial)
    {
        if (!Directory.Exists(sysBlock))
        {
            return null;
        }

        foreach (var block in Directory.GetDirectories(sysBlock).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(block, "serial");
            if (File.Exists(file) && File.ReadAllText(file).Trim() == serial)
            {
                return "/dev/" + Path.GetFileName(block);
            }
        }

        return null;
    }
}
