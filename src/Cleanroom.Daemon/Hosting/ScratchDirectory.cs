namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// A directory the daemon made for one run (see <see cref="PrivateDirectory.Renew"/>), removed with everything in it
/// when the run ends, however it ends. A crash leaves it; the next daemon on the same state directory renews it.
/// </summary>
/// <param name="path">The directory, or null when there is none (disposing is then a no-op).</param>
internal sealed class ScratchDirectory(string? path) : IDisposable
{
    public string? Path { get; } = path;

    public void Dispose()
    {
        if (Path is null)
        {
            return;
        }

        try
        {
            Directory.Delete(Path, recursive: true); // removes links themselves, never what they point to
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort at shutdown: a leftover is renewed by the next daemon on this state directory.
        }
    }
}
