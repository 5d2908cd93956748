using System.Security.Cryptography;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// What a guest restored from a template learns after the restore, since its kernel command line is the template's:
/// the sandbox's own settings (the same words a cold boot gets on its command line), its card's MAC, fresh entropy
/// (every clone starts from the same RNG state) and the wall-clock time (the snapshot's clock is stale).
/// </summary>
internal static class SandboxConfiguration
{
    public const int EntropyBytes = 64;

    public static ConfigureMessage For(VmSpec spec)
    {
        List<string> words = [.. spec.ExtraKernelArgs];
        if (spec.Network is { } network)
        {
            words.Add("cleanroom.mac=" + network.Mac);
        }

        var now = DateTimeOffset.UtcNow;
        var nanoseconds = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        return new ConfigureMessage(string.Join(' ', words), RandomNumberGenerator.GetBytes(EntropyBytes), nanoseconds);
    }
}
