using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Templates;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Images.Quota;
using Cleanroom.Network;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Pool;

/// <summary>
/// A VM restored from a template ahead of any request, already given its identity (the sandbox id it will have),
/// its link and MAC, fresh entropy and the time, and warmed up by one command. Its network is deny-all until a
/// sandbox takes it and applies its own policy. Owned by <see cref="WarmPool"/> while idle, by the sandbox after.
/// </summary>
internal sealed class PooledVm(string id, PoolRecipe recipe, TemplateKey key, IVm vm, AgentClient agent, SandboxNetwork? network, ImageLease? imageLease, string? imageDigest)
{
    public string Id { get; } = id;

    public PoolRecipe Recipe { get; } = recipe;

    /// <summary>The template it was restored from; a sandbox whose key differs (a rebuilt image or asset) cannot use it.</summary>
    public TemplateKey Key { get; } = key;

    public IVm Vm { get; } = vm;

    public AgentClient Agent { get; } = agent;

    /// <summary>The link it was restored with (its TAP is QEMU's); null when the daemon has no network.</summary>
    public SandboxNetwork? Network { get; } = network;

    public ImageLease? ImageLease { get; } = imageLease;

    public string? ImageDigest { get; } = imageDigest;

    public SandboxDemand Demand => new(Recipe.Vcpus, (long)Recipe.MemoryMiB << 20, 0);

    public long ReadyAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
}
