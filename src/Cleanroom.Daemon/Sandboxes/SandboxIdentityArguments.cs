using System.Security.Cryptography;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The guest's hostname and machine id, passed like the other sandbox settings (kernel command line when booting cold,
/// the configure request when restored from a template). The hostname is the sandbox id (a ULID: 26 lowercase
/// letters and digits, a valid DNS label), so a job's logs name the sandbox they ran in. The machine id is random per
/// sandbox: clones of one template, and cold boots of one image, would otherwise all share the image's.
/// </summary>
internal static class SandboxIdentityArguments
{
    public static IEnumerable<string> For(string sandboxId)
    {
        yield return "cleanroom.hostname=" + sandboxId;
        yield return "cleanroom.machine_id=" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    }
}
