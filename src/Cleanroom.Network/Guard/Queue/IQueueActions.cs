namespace Cleanroom.Network.Guard.Queue;

/// <summary>What the flow table asks of the kernel: packet verdicts and connection marks. Called on the queue thread.</summary>
internal interface IQueueActions
{
    /// <summary>Lets a queued packet continue (to the next hook).</summary>
    void Accept(uint packetId);

    /// <summary>Drops a queued packet.</summary>
    void Drop(uint packetId);

    /// <summary>
    /// Sets <paramref name="bits"/> in the conntrack mark of the connection whose original tuple is <paramref name="key"/>
    /// (other bits are kept). False when it could not (no such connection, or conntrack refused): the caller must not
    /// rely on the firewall knowing the decision.
    /// </summary>
    bool Mark(FlowKey key, uint bits);
}
