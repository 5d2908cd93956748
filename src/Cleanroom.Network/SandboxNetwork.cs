using Cleanroom.Network.Links;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Network;

/// <summary>
/// A sandbox's network while it is being attached: its link and the TAP descriptor for the VMM. Close the descriptor
/// once the VMM has it (<see cref="ReleaseTap"/>): from then on the TAP lives exactly as long as the VM.
/// </summary>
public sealed class SandboxNetwork(SandboxLink link, SafeFileHandle tap)
{
    public SandboxLink Link { get; } = link;

    public SafeFileHandle Tap { get; } = tap;

    public void ReleaseTap() => Tap.Dispose();
}
