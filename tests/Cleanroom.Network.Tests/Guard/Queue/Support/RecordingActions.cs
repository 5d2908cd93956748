using Cleanroom.Network.Guard.Queue;

namespace Cleanroom.Network.Tests.Guard.Queue.Support;

/// <summary>The kernel side of the flow table, recorded: verdicts in order and conntrack marks.</summary>
internal sealed class RecordingActions : IQueueActions
{
    public List<(uint Id, bool Accepted)> Verdicts { get; } = [];

    public List<(FlowKey Key, uint Bits)> Marks { get; } = [];

    /// <summary>What <see cref="Mark"/> answers (a connection conntrack no longer has answers false).</summary>
    public bool MarkSucceeds { get; set; } = true;

    public IEnumerable<uint> Accepted => Verdicts.Where(v => v.Accepted).Select(v => v.Id);

    public IEnumerable<uint> Dropped => Verdicts.Where(v => !v.Accepted).Select(v => v.Id);

    public void Accept(uint packetId) => Verdicts.Add((packetId, true));

    public void Drop(uint packetId) => Verdicts.Add((packetId, false));

    public bool Mark(FlowKey key, uint bits)
    {
        Marks.Add((key, bits));
        return MarkSucceeds;
    }
}
