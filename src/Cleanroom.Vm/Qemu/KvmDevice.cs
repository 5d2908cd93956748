namespace Cleanroom.Vm.Qemu;

/// <summary>Whether this process can open the KVM device the way QEMU will (read/write).</summary>
internal static class KvmDevice
{
    public const string DefaultPath = "/dev/kvm";

    /// <summary>Null when openable; otherwise a short reason such as "not present" or "Permission denied".</summary>
    public static string? ProblemOpening(string path)
    {
        if (!File.Exists(path))
        {
            return $"{path} is not present (no KVM on this host, or the kvm module is not loaded)";
        }

        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"{path} is not openable read/write (permission denied; add the user to the kvm group)";
        }
        catch (IOException ex)
        {
            return $"{path} is not openable read/write ({ex.Message})";
        }
    }
}
