using System.Formats.Tar;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>The OCI changeset rules: upper layers override, whiteouts delete, opaque directories hide lower content.</summary>
public sealed class LayerChangesetTests : IDisposable
{
    private readonly ScratchImage _image = new();

    [Fact]
    public void An_upper_layer_overrides_files_and_merges_directories()
    {
        _image.Apply(new LayerTar().Directory("etc").File("etc/a", "one").File("etc/b", "b"));
        _image.Apply(new LayerTar().Directory("etc").File("etc/a", "two").File("etc/c", "c"));

        Assert.Equal("two", File.ReadAllText(_image.InRoot("etc/a")));
        Assert.Equal("b", File.ReadAllText(_image.InRoot("etc/b")));
        Assert.Equal("c", File.ReadAllText(_image.InRoot("etc/c")));
        Assert.Equal(6, _image.Applier.Entries);
        Assert.Equal(8, _image.Applier.UnpackedBytes); // one + b + two + c: overwritten bytes still count
    }

    [Fact]
    public void Whiteouts_delete_a_file_and_a_whole_directory_and_are_not_materialised()
    {
        _image.Apply(new LayerTar().File("a.txt", "a").Directory("d").Directory("d/x").File("d/x/y.txt", "y").File("kept", "k"));
        _image.Apply(new LayerTar().Whiteout("a.txt").Whiteout("d").Whiteout("never-existed"));

        Assert.False(File.Exists(_image.InRoot("a.txt")));
        Assert.False(Directory.Exists(_image.InRoot("d")));
        Assert.True(File.Exists(_image.InRoot("kept")));
        Assert.Equal(["kept"], Directory.GetFileSystemEntries(_image.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void An_opaque_directory_hides_lower_children_but_keeps_what_its_own_layer_wrote_before_the_marker()
    {
        _image.Apply(new LayerTar()
            .Directory("d").File("d/old", "old").Directory("d/sub").File("d/sub/old2")
            .Directory("d/x").File("d/x/lower")
            .Directory("keep").File("keep/k"));
        _image.Apply(new LayerTar()
            .Directory("d")
            .File("d/-new", "sorts before the marker")
            .Directory("d/sub2").File("d/sub2/inner")
            .File("d/x/new") // its directory comes from the lower layer, and must survive
            .Add(new PaxTarEntry(TarEntryType.RegularFile, "d/.wh..wh..opq"))
            .File("d/zz", "after the marker"));

        Assert.False(File.Exists(_image.InRoot("d/old")));
        Assert.False(Directory.Exists(_image.InRoot("d/sub")));
        Assert.False(File.Exists(_image.InRoot("d/x/lower")));
        Assert.True(File.Exists(_image.InRoot("d/x/new")));
        Assert.True(File.Exists(_image.InRoot("d/-new")));
        Assert.True(File.Exists(_image.InRoot("d/sub2/inner")));
        Assert.True(File.Exists(_image.InRoot("d/zz")));
        Assert.True(File.Exists(_image.InRoot("keep/k")));
        Assert.False(File.Exists(_image.InRoot("d/.wh..wh..opq")));
    }

    [Fact]
    public void Aufs_metadata_entries_are_skipped()
    {
        _image.Apply(new LayerTar().Directory(".wh..wh.plnk").File(".wh..wh.plnk/1234.5678", "x").File("a/.wh..wh.aufs"));

        Assert.False(Directory.Exists(_image.InRoot(".wh..wh.plnk")));
        Assert.False(File.Exists(_image.InRoot("a/.wh..wh.aufs")));
    }

    [Fact]
    public void A_directory_replaces_a_file_and_a_file_replaces_a_directory()
    {
        _image.Apply(new LayerTar().File("was-file", "f").Directory("was-dir").File("was-dir/child"));
        _image.Apply(new LayerTar().Directory("was-file").File("was-file/inside").File("was-dir", "now a file"));

        Assert.True(File.Exists(_image.InRoot("was-file/inside")));
        Assert.Equal("now a file", File.ReadAllText(_image.InRoot("was-dir")));
    }

    [Fact]
    public void Names_are_normalised_and_missing_parents_are_created_as_0755_directories()
    {
        _image.Apply(new LayerTar().File("./a//b/./c", "c").Directory("./"));

        Assert.Equal("c", File.ReadAllText(_image.InRoot("a/b/c")));
        var parent = NodeInfo.Of(_image.InRoot("a/b"));
        Assert.Equal(0x4000u, parent.Type);
        Assert.Equal(0x1EDu, parent.Permissions);
        Assert.Equal(0, parent.Uid);
    }

    [Fact]
    public void Hard_links_share_the_inode_within_and_across_layers()
    {
        _image.Apply(new LayerTar().File("bin/tool", "tool").HardLink("bin/alias", "bin/tool").Symlink("bin/sym", "tool"));
        _image.Apply(new LayerTar().HardLink("usr/bin/tool", "./bin/tool").HardLink("bin/sym-link", "bin/sym"));

        var tool = NodeInfo.Of(_image.InRoot("bin/tool"));
        Assert.Equal(tool.Inode, NodeInfo.Of(_image.InRoot("bin/alias")).Inode);
        Assert.Equal(tool.Inode, NodeInfo.Of(_image.InRoot("usr/bin/tool")).Inode);
        Assert.Equal(3, NodeInfo.Of(_image.InRoot("bin/tool")).Links);
        // A hard link to a symlink links the symlink itself, not what it points at.
        Assert.Equal(NodeInfo.Of(_image.InRoot("bin/sym")).Inode, NodeInfo.Of(_image.InRoot("bin/sym-link")).Inode);
        Assert.Equal("tool", new FileInfo(_image.InRoot("bin/sym-link")).LinkTarget);
    }

    [Fact]
    public void Symlinks_keep_their_target_verbatim_even_dangling_or_absolute()
    {
        _image.Apply(new LayerTar().Symlink("dangling", "no/such/file").Symlink("abs", "/etc/hostname").Symlink("up", "../../x", uid: 1234, gid: 5678));

        Assert.Equal("no/such/file", new FileInfo(_image.InRoot("dangling")).LinkTarget);
        Assert.Equal("/etc/hostname", new FileInfo(_image.InRoot("abs")).LinkTarget);
        Assert.Equal("../../x", new FileInfo(_image.InRoot("up")).LinkTarget);
        var up = NodeInfo.Of(_image.InRoot("up"));
        Assert.Equal((1234, 5678), (up.Uid, up.Gid));
    }

    [Fact]
    public void A_symlink_replaces_a_directory_and_a_later_layer_writes_through_it_inside_the_image()
    {
        _image.Apply(new LayerTar().Directory("usr/lib").Directory("lib").File("lib/old"));
        _image.Apply(new LayerTar().Symlink("lib", "usr/lib").File("lib/libc.so", "c"));

        Assert.Equal("usr/lib", new FileInfo(_image.InRoot("lib")).LinkTarget);
        Assert.Equal("c", File.ReadAllText(_image.InRoot("usr/lib/libc.so")));
        Assert.False(File.Exists(_image.InRoot("usr/lib/old")));
    }

    public void Dispose() => _image.Dispose();
}
