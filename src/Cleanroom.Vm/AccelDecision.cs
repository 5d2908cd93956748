namespace Cleanroom.Vm;

/// <summary>
/// The accelerator a backend will use for every VM it starts, and why. <see cref="Mode"/> is never
/// <see cref="AccelMode.Auto"/>: the decision is the resolved value, shown verbatim by <c>doctor</c>.
/// </summary>
/// <param name="Mode"><see cref="AccelMode.Kvm"/> or <see cref="AccelMode.Tcg"/>.</param>
/// <param name="Reason">One line a user can act on, e.g. "KVM probe: qemu exited with code 134 (…); using TCG".</param>
/// <param name="ProbeDuration">Time the KVM probe took; zero when no probe ran.</param>
public sealed record AccelDecision(AccelMode Mode, string Reason, TimeSpan ProbeDuration = default);
