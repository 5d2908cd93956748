using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// A private directory for one copy-out inside the repository's git directory (<c>.git/cleanroom/copy-out-RANDOM</c>):
/// on the working tree's file system, so moving into place is an atomic rename, and out of the working tree, so git
/// and editors never see it. It holds <c>new</c> (the unpacked changes) and <c>backup</c> (what the copy-out moved
/// away). It is removed on dispose unless <see cref="Keep"/> was called.
/// </summary>
internal sealed class StagingArea : IDisposable
{
    private const uint PrivateMode = 0x1C0; // 0700
    private bool _keep;

    private StagingArea(string path)
    {
        Path = path;
        New = path + "/new";
        Backup = path + "/backup";
    }

    public string Path { get; }

    public string New { get; }

    public string Backup { get; }

    /// <summary>Makes a fresh staging area under <paramref name="gitDirectory"/>.</summary>
    public static StagingArea Create(string gitDirectory)
    {
        var parent = gitDirectory + "/cleanroom";
        var kind = LibC.GetKind(parent);
        if (kind == NodeKind.Missing)
        {
            LibC.MakeDirectory(parent, PrivateMode);
        }
        else if (kind != NodeKind.Directory)
        {
            throw new WorkspaceException(WorkspaceErrorKind.CopyOutFailed, $"'{parent}' is not a directory; remove it and try again.");
        }

        var area = new StagingArea($"{parent}/copy-out-{Guid.NewGuid():N}");
        LibC.MakeDirectory(area.Path, PrivateMode);
        LibC.MakeDirectory(area.New, PrivateMode);
        LibC.MakeDirectory(area.Backup, PrivateMode);
        return area;
    }

    /// <summary>Leaves the area in place (a rollback could not restore everything; the user needs the backups).</summary>
    public void Keep() => _keep = true;

    public void Dispose()
    {
        if (_keep)
        {
            return;
        }

        try
        {
            // Through libc, which unlinks symlinks rather than following them and names what .NET cannot (backups and
            // staged files may have names that are not UTF-8).
            LibC.RemoveTree(Path);
        }
        catch (IOException)
        {
            // Not fatal and must not hide the copy-out's own outcome or error: what is left is inside .git/cleanroom,
            // which git ignores, and can be deleted by hand.
        }
    }
}
