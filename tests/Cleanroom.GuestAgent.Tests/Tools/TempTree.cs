using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>A temporary directory removed (with anything left in it) when the test ends.</summary>
internal sealed class TempTree : IDisposable
{
    private readonly DirectoryInfo _directory = System.IO.Directory.CreateTempSubdirectory("cr-tools-");

    public string Root => _directory.FullName;

    public string Path(string relative) => System.IO.Path.Combine(Root, relative);

    /// <summary>Writes a file, creating its parents.</summary>
    public string Write(string relative, string content)
    {
        var path = Path(relative);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public string Mkdir(string relative) => System.IO.Directory.CreateDirectory(Path(relative)).FullName;

    /// <summary>Removes the tree with the tools' own removal: .NET's cannot remove names that are not UTF-8.</summary>
    public void Dispose() => FileOps.RemoveTree(Root);
}
