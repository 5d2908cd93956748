using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Shared state of one exec that its pump threads watch: "the main process is gone" and "give up now". Both set a
/// wake event the pumps poll on, so a silent pump notices without a timer.
/// </summary>
internal sealed class ExecLifetime : IDisposable
{
    private readonly WakeEvent _wake = new();
    private volatile bool _exited;
    private volatile bool _aborted;

    public int WakeFd => _wake.Fd;

    public bool Exited => _exited;

    public bool Aborted => _aborted;

    public void MarkExited()
    {
        _exited = true;
        _wake.Set();
    }

    public void Abort()
    {
        _aborted = true;
        _wake.Set();
    }

    /// <summary>Only after every pump has finished: they poll on the descriptor.</summary>
    public void Dispose() => _wake.Dispose();
}
