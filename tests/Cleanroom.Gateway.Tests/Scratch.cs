namespace Cleanroom.Gateway.Tests;

/// <summary>A scratch directory for one test, deleted on dispose.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Path = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cleanroom-gateway-" + Guid.NewGuid().ToString("N")[..12])).FullName;
    }

    public string Path { get; }

    /// <summary>Every file under the scratch directory (relative), to show that nothing partial was left.</summary>
    public IReadOnlyList<string> Files(string under = "") =>
        Directory.EnumerateFiles(System.IO.Path.Combine(Path, under), "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal).ToList();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
