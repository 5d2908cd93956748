namespace Cleanroom.Client;

/// <summary>
/// Interrupts (SIGINT, SIGTERM) delivered to a client, decoupled from process signal handling so that library
/// code and tests can raise them. The first interrupt cancels <see cref="Token"/>; a subscriber, such as a running
/// exec, takes over every interrupt and decides what each one means.
/// </summary>
public sealed class InterruptSignal : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _first = new();
    private readonly List<Action<int>> _subscribers = [];
    private int _count;

    /// <summary>Cancelled by the first interrupt.</summary>
    public CancellationToken Token => _first.Token;

    /// <summary>How many interrupts arrived so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether a subscriber (a running exec) currently takes over what each interrupt means.</summary>
    public bool HasSubscribers
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count > 0;
            }
        }
    }

    /// <summary>The signal number of the latest interrupt (0 before any).</summary>
    public int LastSignal { get; private set; }

    /// <summary>
    /// Delivers an interrupt. Returns false when nobody handles repeated interrupts, which tells a process signal
    /// handler to let the default action (termination) happen: a second Ctrl-C always gets the user out.
    /// </summary>
    public bool Raise(int signal)
    {
        Action<int>[] subscribers;
        int count;
        lock (_gate)
        {
            count = ++_count;
            LastSignal = signal;
            subscribers = [.. _subscribers];
        }

        if (count == 1)
        {
            _first.Cancel();
        }

        foreach (var subscriber in subscribers)
        {
            subscriber(signal);
        }

        return subscribers.Length > 0 || count == 1;
    }

    /// <summary>Calls <paramref name="handler"/> with the signal number of every later interrupt until disposed.</summary>
    public IDisposable Subscribe(Action<int> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            _subscribers.Add(handler);
        }

        return new Subscription(this, handler);
    }

    /// <summary>Releases the token source.</summary>
    public void Dispose() => _first.Dispose();

    private void Unsubscribe(Action<int> handler)
    {
        lock (_gate)
        {
            _subscribers.Remove(handler);
        }
    }

    private sealed class Subscription(InterruptSignal owner, Action<int> handler) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(handler);
    }
}
