namespace Cleanroom.Vm.Qemu;

/// <summary>Outcome of one KVM probe: whether a guest reached userspace under KVM, and if not, why.</summary>
/// <param name="Usable">True when the probe guest printed the marker.</param>
/// <param name="Detail">"guest reached userspace in 0.41 s", "qemu exited with code 134 (…)", …</param>
/// <param name="Elapsed">Wall time of the probe (zero if it did not boot anything).</param>
internal sealed record KvmProbeResult(bool Usable, string Detail, TimeSpan Elapsed);
