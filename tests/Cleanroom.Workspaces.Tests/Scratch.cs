using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// A temp directory removed with <c>rm -rf</c> on dispose: the repositories here hold a file name that is not UTF-8,
/// which Directory.Delete cannot name.
/// </summary>
public sealed class Scratch : IDisposable
{
    /// <param name="parent">Where to create it; the system temp directory when null (/dev/shm puts it on tmpfs).</param>
    public Scratch(string prefix = "cr-ws-test", string? parent = null)
    {
        Path = parent is null
            ? Directory.CreateTempSubdirectory(prefix + "-").FullName
            : Directory.CreateDirectory(System.IO.Path.Combine(parent, prefix + "-" + Guid.NewGuid().ToString("N")[..12])).FullName;
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose() =>
        HostCommand.RunAsync("rm", ["-rf", "--one-file-system", "--", Path], TimeSpan.FromMinutes(2), CancellationToken.None).GetAwaiter().GetResult();
}
