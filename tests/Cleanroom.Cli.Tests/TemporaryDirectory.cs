namespace Cleanroom.Cli.Tests;

/// <summary>A scratch repository directory, deleted when the test ends.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("cleanroom-policy-").FullName;

    /// <summary>Writes <paramref name="content"/> at <paramref name="relativePath"/>, creating directories; returns the full path.</summary>
    public string Write(string relativePath, string content)
    {
        var full = System.IO.Path.Join(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
