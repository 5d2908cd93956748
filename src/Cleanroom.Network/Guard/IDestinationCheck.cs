using System.Net;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Whether a sandbox may still reach an address and port because an allowed DNS answer gave it that address for that
/// port. The guard asks once per connection, after the firewall redirected it, because the answer may have expired
/// between the SYN and the accept. Called on the guard's connection tasks: must answer from memory and never block.
/// </summary>
public interface IDestinationCheck
{
    /// <summary>True when <paramref name="address"/>:<paramref name="port"/> is in the sandbox's learned destinations now.</summary>
    bool IsLearned(string sandboxId, IPAddress address, int port);
}
