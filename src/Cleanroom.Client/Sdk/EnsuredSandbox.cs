using Cleanroom.Api.V1;

namespace Cleanroom.Client.Sdk;

/// <summary>The sandbox <see cref="CleanroomClient.EnsureSandboxAsync"/> returned.</summary>
/// <param name="Sandbox">The sandbox, READY.</param>
/// <param name="Created">True when this call booted it; false when the key's existing sandbox was reused.</param>
public sealed record EnsuredSandbox(Sandbox Sandbox, bool Created)
{
    /// <summary>The sandbox's id.</summary>
    public string SandboxId => Sandbox.SandboxId;
}
