namespace Cleanroom.Vm.Tests.Support;

/// <summary>A scratch directory under /tmp with a short path (unix socket paths are limited to 107 bytes).</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("crvm-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string WriteFile(string name, string content)
    {
        var path = Combine(name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Writes an executable shell script (a fake tool).</summary>
    public string WriteScript(string name, string body)
    {
        var path = WriteFile(name, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; a failing test must not hide its real failure behind cleanup.
        }
    }
}
