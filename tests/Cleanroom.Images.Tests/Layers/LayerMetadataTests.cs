using System.Formats.Tar;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Owners, modes, times, device nodes and extended attributes arrive as the layer states them.</summary>
public sealed class LayerMetadataTests : IDisposable
{
    private static readonly long DefaultSeconds = LayerTar.DefaultTime.ToUnixTimeSeconds();

    private readonly ScratchImage _image = new();

    [Fact]
    public void Owner_setuid_mode_and_mtime_are_applied_to_files()
    {
        var mtime = new DateTimeOffset(2010, 1, 2, 3, 4, 5, TimeSpan.Zero);
        _image.Apply(new LayerTar().File("usr/bin/su", "#!", mode: (UnixFileMode)0x9ED, uid: 1234, gid: 5678, mtime: mtime));

        var su = NodeInfo.Of(_image.InRoot("usr/bin/su"));
        Assert.Equal((1234, 5678), (su.Uid, su.Gid));
        Assert.Equal(0x9EDu, su.Permissions); // 04755: chown came before chmod, so setuid survived
        Assert.Equal(mtime.ToUnixTimeSeconds(), su.ModificationSeconds);
    }

    [Fact]
    public void Directory_times_survive_children_added_later_in_the_layer_and_modes_include_sticky_and_setgid()
    {
        _image.Apply(new LayerTar()
            .Directory("tmp", mode: (UnixFileMode)0x3FF)
            .Directory("srv", mode: (UnixFileMode)0x5ED, uid: 7, gid: 8)
            .File("tmp/later", "x")
            .File("srv/later", "y"));

        var tmp = NodeInfo.Of(_image.InRoot("tmp"));
        var srv = NodeInfo.Of(_image.InRoot("srv"));
        Assert.Equal(0x3FFu, tmp.Permissions);
        Assert.Equal(0x5EDu, srv.Permissions);
        Assert.Equal((7, 8), (srv.Uid, srv.Gid));
        Assert.Equal(DefaultSeconds, tmp.ModificationSeconds);
        Assert.Equal(DefaultSeconds, srv.ModificationSeconds);
    }

    [Fact]
    public void The_root_entry_sets_the_roots_own_mode_and_owner()
    {
        _image.Apply(new LayerTar().Directory("./", mode: (UnixFileMode)0x1C0, uid: 3, gid: 4).File("f"));

        var root = NodeInfo.Of(_image.Root);
        Assert.Equal(0x1C0u, root.Permissions);
        Assert.Equal((3, 4), (root.Uid, root.Gid));
        Assert.Equal(DefaultSeconds, root.ModificationSeconds);
    }

    [Fact]
    public void Device_nodes_and_fifos_are_created_with_their_numbers_and_modes()
    {
        _image.Apply(new LayerTar()
            .Device("dev/null", TarEntryType.CharacterDevice, 1, 3)
            .Device("dev/loop0", TarEntryType.BlockDevice, 7, 0, mode: (UnixFileMode)0x1B0)
            .Device("run/pipe", TarEntryType.Fifo, 0, 0, mode: (UnixFileMode)0x180));

        var nul = NodeInfo.Of(_image.InRoot("dev/null"));
        Assert.Equal((0x2000u, 1, 3, 0x1B6u), (nul.Type, nul.Major, nul.Minor, nul.Permissions));
        var loop = NodeInfo.Of(_image.InRoot("dev/loop0"));
        Assert.Equal((0x6000u, 7, 0, 0x1B0u), (loop.Type, loop.Major, loop.Minor, loop.Permissions));
        var pipe = NodeInfo.Of(_image.InRoot("run/pipe"));
        Assert.Equal((0x1000u, 0x180u), (pipe.Type, pipe.Permissions));
        Assert.Equal(DefaultSeconds, pipe.ModificationSeconds);
    }

    [Fact]
    public void User_extended_attributes_are_applied_and_host_specific_ones_are_not()
    {
        _image.Apply(new LayerTar()
            .File("f", "x", records: new() { ["SCHILY.xattr.user.foo"] = "bar", ["SCHILY.xattr.trusted.overlay.opaque"] = "y" })
            .Directory("d")
            .Add(new PaxTarEntry(TarEntryType.Directory, "d", new Dictionary<string, string> { ["SCHILY.xattr.user.dir"] = "yes" }))
            .Symlink("link", "f"));

        Assert.Equal("bar", ExtendedAttributes.Get(_image.InRoot("f"), "user.foo"));
        Assert.Null(ExtendedAttributes.Get(_image.InRoot("f"), "trusted.overlay.opaque"));
        Assert.Equal("yes", ExtendedAttributes.Get(_image.InRoot("d"), "user.dir"));
    }

    [Fact]
    public void Long_zero_runs_become_holes_without_changing_the_content()
    {
        var content = new byte[(3 << 20) + 100];
        content[5] = 1;
        content[(2 << 20) + 7] = 2;
        _image.Apply(new LayerTar().File("sparse", new MemoryStream(content)).File("zeros", new MemoryStream(new byte[70_000])));

        Assert.Equal(content, File.ReadAllBytes(_image.InRoot("sparse")));
        Assert.Equal(new byte[70_000], File.ReadAllBytes(_image.InRoot("zeros")));
    }

    public void Dispose() => _image.Dispose();
}
