namespace Cleanroom.Vm;

/// <summary>How guest CPUs are executed.</summary>
public enum AccelMode
{
    /// <summary>Use KVM when a probe boot proves it works on this host, otherwise TCG.</summary>
    Auto,

    /// <summary>Hardware virtualisation through /dev/kvm; fail if it does not work.</summary>
    Kvm,

    /// <summary>QEMU's software emulator. Always available, roughly 10x slower to boot.</summary>
    Tcg,
}
