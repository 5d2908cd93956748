namespace Cleanroom.Vm.Qemu;

/// <summary>A QEMU left running by an earlier daemon for <paramref name="WorkDir"/>, and what was done about it.</summary>
internal sealed record StaleQemu(int Pid, string WorkDir, bool Killed, string Note);
