using Cleanroom.Guest.Wire;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// The parent's side of a child's stdio. The descriptors handed out by <see cref="TakeOutputs"/> and
/// <see cref="TakeInput"/> belong to their pump from then on (each pump closes its own); the rest are closed by
/// <see cref="Dispose"/>.
/// </summary>
internal abstract class ProcessIo : IDisposable
{
    public abstract ChildStdio ChildStdio { get; }

    public abstract bool IsTerminal { get; }

    /// <summary>After spawning: the child has its copies, and ours would keep the pipes from reaching EOF.</summary>
    public abstract void CloseChildEnds();

    public abstract IReadOnlyList<(int Fd, OutputStreamKind Kind)> TakeOutputs();

    public abstract int TakeInput();

    /// <summary>Sets the terminal size (no-op for pipes).</summary>
    public virtual void Resize(ushort cols, ushort rows)
    {
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}
