namespace Cleanroom.Vm.Qemu;

/// <summary>QEMU's key=value,key=value option syntax.</summary>
internal static class QemuOption
{
    /// <summary>A value inside an option list: QEMU reads ",," as a literal comma, so a path with a comma survives.</summary>
    public static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
