using System.Formats.Tar;
using Cleanroom.Images.Layers;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>
/// Hostile layers: whatever names, links and symlinks they combine, nothing outside the image root is created,
/// written, linked or deleted, and the rejection names the layer, the entry and the reason.
/// </summary>
public sealed class LayerConfinementTests : IDisposable
{
    private readonly ScratchImage _image = new();

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/b/../c")]
    public void A_name_with_dotdot_is_rejected(string name)
    {
        var error = _image.Rejects(new LayerTar().File(name, "x"));

        Assert.Contains("sha256:bad", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'..'", error.Message, StringComparison.Ordinal);
        Assert.Equal(name, error.EntryName);
        Assert.Empty(Directory.GetFileSystemEntries(_image.Outside));
    }

    [Fact]
    public void An_absolute_name_is_rejected()
    {
        var error = _image.Rejects(new LayerTar().File("/etc/x", "x"));

        Assert.Contains("absolute", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_image.InRoot("etc/x")));
    }

    [Fact]
    public void An_entry_through_a_symlink_that_escapes_the_root_is_rejected_and_nothing_is_created_outside()
    {
        var unique = "/tmp/cr-escape-" + Guid.NewGuid().ToString("N");
        _image.Apply(new LayerTar().Symlink("evil", "../../../../" + unique[1..]));
        _image.Apply(new LayerTar().Symlink("inner", "evil/deeper"));

        var error = Assert.Throws<LayerRejectedException>(() => _image.Apply(new LayerTar().Directory("evil/pwned").File("evil/pwned/f"), "sha256:layer2"));
        Assert.Contains("sha256:layer2", error.Message, StringComparison.Ordinal);
        Assert.Contains("'evil/pwned'", error.Message, StringComparison.Ordinal);
        Assert.Contains("goes through symlink 'evil'", error.Message, StringComparison.Ordinal);
        Assert.Contains("escapes the image root", error.Message, StringComparison.Ordinal);
        Assert.False(Path.Exists(unique));

        // The same through a chain of symlinks, and with the symlink planted earlier in the same layer.
        Assert.Throws<LayerRejectedException>(() => _image.Apply(new LayerTar().File("inner/f")));
        Assert.Throws<LayerRejectedException>(() => _image.Apply(new LayerTar().Symlink("again", "../" + unique[1..]).File("again/f")));
        Assert.False(Path.Exists(unique));
    }

    [Fact]
    public void An_entry_through_an_escaping_symlink_never_writes_into_an_existing_host_directory()
    {
        var victim = Path.Combine(_image.Outside, "victim");
        File.WriteAllText(victim, "original");
        _image.Apply(new LayerTar().Symlink("evil", ScratchImage.EscapingTarget(_image.Outside)));

        _image.Rejects(new LayerTar().File("evil/victim", "pwned"));
        _image.Rejects(new LayerTar().File("evil/new", "pwned"));
        _image.Rejects(new LayerTar().Whiteout("evil/victim"));
        _image.Rejects(new LayerTar().Add(new PaxTarEntry(TarEntryType.RegularFile, "evil/.wh..wh..opq")));
        _image.Rejects(new LayerTar().HardLink("stolen", "evil/victim"));

        Assert.Equal("original", File.ReadAllText(victim));
        Assert.Equal(["victim"], Directory.GetFileSystemEntries(_image.Outside).Select(Path.GetFileName));
        Assert.False(File.Exists(_image.InRoot("stolen")));
    }

    [Fact]
    public void An_absolute_symlink_is_followed_inside_the_image_root()
    {
        var unique = "/tmp/cr-reroot-" + Guid.NewGuid().ToString("N");
        _image.Apply(new LayerTar().Symlink("abs", unique));
        _image.Apply(new LayerTar().File("abs/file", "inside"));

        Assert.Equal("inside", File.ReadAllText(_image.InRoot(unique[1..] + "/file")));
        Assert.False(Path.Exists(unique));
        Assert.Equal(unique, new FileInfo(_image.InRoot("abs")).LinkTarget);
    }

    [Fact]
    public void Relative_symlinks_that_stay_inside_the_root_are_followed()
    {
        _image.Apply(new LayerTar().Directory("usr/lib").Directory("opt/app").Symlink("opt/app/up", "../../usr").Symlink("root-link", "/"));
        _image.Apply(new LayerTar().File("opt/app/up/lib/x", "x").File("root-link/top", "t"));

        Assert.Equal("x", File.ReadAllText(_image.InRoot("usr/lib/x")));
        Assert.Equal("t", File.ReadAllText(_image.InRoot("top")));
    }

    [Fact]
    public void A_file_replacing_a_symlink_to_the_host_replaces_the_link_instead_of_writing_through_it()
    {
        var victim = Path.Combine(_image.Outside, "victim");
        File.WriteAllText(victim, "original");
        var victimDirectory = Path.Combine(_image.Outside, "dir");
        Directory.CreateDirectory(victimDirectory);
        _image.Apply(new LayerTar()
            .Symlink("link", ScratchImage.EscapingTarget(victim))
            .Symlink("dirlink", ScratchImage.EscapingTarget(victimDirectory))
            .Symlink("devlink", ScratchImage.EscapingTarget(victim))
            .Symlink("hardlink", ScratchImage.EscapingTarget(victim))
            .File("plain", "p"));

        _image.Apply(new LayerTar()
            .File("link", "new", mode: (UnixFileMode)0x1FF)
            .Directory("dirlink", mode: (UnixFileMode)0x1C0)
            .Device("devlink", TarEntryType.Fifo, 0, 0)
            .HardLink("hardlink", "plain"));

        Assert.Equal("original", File.ReadAllText(victim));
        Assert.NotEqual(0x1FFu, NodeInfo.Of(victim).Permissions);
        Assert.Equal(0x1EDu, NodeInfo.Of(victimDirectory).Permissions);
        Assert.Equal("new", File.ReadAllText(_image.InRoot("link")));
        Assert.Null(new FileInfo(_image.InRoot("link")).LinkTarget);
        Assert.Equal(0x4000u, NodeInfo.Of(_image.InRoot("dirlink")).Type);
        Assert.Equal(0x1000u, NodeInfo.Of(_image.InRoot("devlink")).Type);
        Assert.Equal(NodeInfo.Of(_image.InRoot("plain")).Inode, NodeInfo.Of(_image.InRoot("hardlink")).Inode);
        Assert.Equal(1, NodeInfo.Of(victim).Links);
    }

    [Theory]
    [InlineData("../../../../../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("missing")]
    [InlineData("somedir")]
    public void A_hard_link_to_anything_but_an_existing_file_of_the_image_is_rejected(string target)
    {
        _image.Apply(new LayerTar().Directory("somedir"));

        var error = _image.Rejects(new LayerTar().HardLink("link", target));

        Assert.Equal("link", error.EntryName);
        Assert.False(File.Exists(_image.InRoot("link")));
    }

    [Fact]
    public void A_symlink_loop_is_rejected()
    {
        _image.Apply(new LayerTar().Symlink("a", "b").Symlink("b", "a"));

        var error = _image.Rejects(new LayerTar().File("a/x"));

        Assert.Contains("symlink loop", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_through_a_regular_file_is_rejected()
    {
        _image.Apply(new LayerTar().File("f", "x"));

        var error = _image.Rejects(new LayerTar().File("f/x"));

        Assert.Contains("needs 'f' to be a directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deleting_a_symlink_to_the_host_or_a_directory_holding_one_deletes_only_the_link()
    {
        var kept = Path.Combine(_image.Outside, "kept");
        File.WriteAllText(kept, "k");
        _image.Apply(new LayerTar().Directory("d").Symlink("d/out", ScratchImage.EscapingTarget(_image.Outside)).Directory("e").Symlink("e/out", ScratchImage.EscapingTarget(_image.Outside)));
        _image.Apply(new LayerTar().Symlink("top-out", ScratchImage.EscapingTarget(_image.Outside)));
        _image.Apply(new LayerTar().Whiteout("d").Directory("e").Add(new PaxTarEntry(TarEntryType.RegularFile, "e/.wh..wh..opq")).Whiteout("top-out"));

        Assert.False(Directory.Exists(_image.InRoot("d")));
        Assert.False(Path.Exists(_image.InRoot("top-out")));
        Assert.False(Path.Exists(_image.InRoot("e/out")));
        Assert.True(File.Exists(kept));
    }

    [Fact]
    public void Unknown_entry_types_are_rejected_by_name()
    {
        var tar = new LayerTar().Add(new UstarTarEntry(TarEntryType.RegularFile, "weird")).ToTar();
        RetypeFirstHeader(tar, (byte)'Z');

        var error = Assert.Throws<LayerRejectedException>(() => _image.Apply(tar, LayerCompression.None));

        Assert.Contains("'weird' has tar type 'Z'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_image.InRoot("weird")));
    }

    [Fact]
    public void Gnu_sparse_files_are_rejected_as_unsupported()
    {
        var tar = new LayerTar().Add(new UstarTarEntry(TarEntryType.RegularFile, "sparse")).ToTar();
        RetypeFirstHeader(tar, (byte)'S');

        var error = Assert.Throws<LayerRejectedException>(() => _image.Apply(tar, LayerCompression.None));

        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Control_characters_in_names_are_escaped_in_messages()
    {
        var error = _image.Rejects(new LayerTar().File("../\u001b[31mred", "x"));

        Assert.DoesNotContain('\u001b', error.Message);
        Assert.Contains("'../\\x1b[31mred'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Rewrites a ustar header's type flag and fixes its checksum.</summary>
    private static void RetypeFirstHeader(byte[] tar, byte type)
    {
        tar[156] = type;
        Array.Fill(tar, (byte)' ', 148, 8);
        var sum = 0;
        for (var i = 0; i < 512; i++)
        {
            sum += tar[i];
        }

        var octal = Convert.ToString(sum, 8).PadLeft(6, '0');
        for (var i = 0; i < 6; i++)
        {
            tar[148 + i] = (byte)octal[i];
        }

        tar[154] = 0;
    }

    public void Dispose() => _image.Dispose();
}
