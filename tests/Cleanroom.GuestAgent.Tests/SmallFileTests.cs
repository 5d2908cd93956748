using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

public sealed class SmallFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-smallfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_symlink_is_replaced_by_a_regular_file_and_its_target_is_not_written()
    {
        // /etc/resolv.conf is often a link into systemd's run directory: writing through it would change another file.
        var target = Path.Combine(_dir, "target");
        File.WriteAllText(target, "someone else's\n");
        var path = Path.Combine(_dir, "resolv.conf");
        File.CreateSymbolicLink(path, target);

        Assert.Null(SmallFile.Replace(path, "nameserver 10.0.0.1\n"));

        Assert.Null(new FileInfo(path).LinkTarget);
        Assert.Equal("nameserver 10.0.0.1\n", File.ReadAllText(path));
        Assert.Equal("someone else's\n", File.ReadAllText(target));
    }

    [Fact]
    public void A_longer_old_file_leaves_nothing_behind_and_the_new_one_is_world_readable()
    {
        var path = Path.Combine(_dir, "hostname");
        File.WriteAllText(path, new string('x', 10_000));

        Assert.Null(SmallFile.Replace(path, "sandbox\n"));

        Assert.Equal("sandbox\n", File.ReadAllText(path));
        var mode = new FileInfo(path).UnixFileMode;
        Assert.True(mode.HasFlag(UnixFileMode.OtherRead));
        Assert.False(mode.HasFlag(UnixFileMode.OtherWrite));
    }

    [Fact]
    public void A_file_that_cannot_be_created_is_reported_with_its_path()
    {
        var path = Path.Combine(_dir, "missing", "machine-id");

        var error = SmallFile.Replace(path, "0123\n");

        Assert.NotNull(error);
        Assert.Contains(path, error, StringComparison.Ordinal);
    }
}
