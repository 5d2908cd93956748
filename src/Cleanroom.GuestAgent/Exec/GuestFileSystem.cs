using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>The real filesystem. Executability is access(X_OK), i.e. judged for the agent's own user (root).</summary>
internal sealed class GuestFileSystem : IGuestFileSystem
{
    public static readonly GuestFileSystem Instance = new();

    public FileKind Probe(string path)
    {
        if (Directory.Exists(path))
        {
            return FileKind.Directory;
        }

        if (!File.Exists(path))
        {
            return FileKind.Missing;
        }

        return LibC.Access(path, LibC.X_OK) == 0 ? FileKind.Executable : FileKind.NotExecutable;
    }

    public bool IsDirectory(string path) => Directory.Exists(path);

    public string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
