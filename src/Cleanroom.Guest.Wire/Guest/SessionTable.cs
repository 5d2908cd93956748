using System.Collections.Concurrent;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>
/// The guest's process streams. A durable table belongs to the agent and outlives every host connection: its
/// sessions go on when their host leaves, wait for the next host to take them over (or end them), and are forgotten
/// only once a host released their recorded exit. A table that is not durable belongs to one connection, whose end
/// ends its processes (tests, and any server not behind the agent's reconnecting loop).
/// </summary>
public sealed class SessionTable
{
    private readonly ConcurrentDictionary<uint, ExecSession> _sessions = new();

    public SessionTable(bool durable) => Durable = durable;

    public bool Durable { get; }

    public int Count => _sessions.Count;

    internal ICollection<ExecSession> All => _sessions.Values;

    internal bool Contains(uint streamId) => _sessions.ContainsKey(streamId);

    internal bool TryGet(uint streamId, out ExecSession session) => _sessions.TryGetValue(streamId, out session!);

    internal void Add(ExecSession session) => _sessions[session.StreamId] = session;

    /// <summary>Forgets a session whose handler finished (its resources go with it).</summary>
    internal void Forget(ExecSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<uint, ExecSession>(session.StreamId, session)))
        {
            _ = session.Completion.ContinueWith(_ => session.Dispose(), TaskScheduler.Default);
        }
    }

    /// <summary>Kills a session and forgets it at once (its stream id is free for reuse); its handler ends in the background.</summary>
    internal void Kill(ExecSession session, string reason)
    {
        session.Kill(new WireProtocolException(reason));
        Forget(session);
    }

    /// <summary>Kills every session and waits for their handlers.</summary>
    internal async Task KillAllAsync(string reason)
    {
        var handlers = new List<Task>();
        foreach (var session in _sessions.Values)
        {
            handlers.Add(session.Completion);
            Kill(session, reason);
        }

        await Task.WhenAll(handlers);
    }
}
