namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// An exclusive lock on the state directory (an flock'd file, released by the kernel if the daemon dies), so two
/// daemons never manage the same sandboxes.
/// </summary>
internal sealed class StateDirLock : IDisposable
{
    private readonly FileStream _file;

    private StateDirLock(FileStream file) => _file = file;

    public static StateDirLock Acquire(string stateDir)
    {
        var path = Path.Combine(stateDir, "daemon.lock");
        try
        {
            return new StateDirLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex)
        {
            throw new DaemonException(Grpc.Core.StatusCode.AlreadyExists, ReasonCode.FailedPrecondition, $"another daemon is using the state directory {stateDir} ({ex.Message})");
        }
    }

    public void Dispose() => _file.Dispose();
}
