using Cleanroom.GuestAgent.Init;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Tests;

public class SmallParsersTests
{
    [Theory]
    [InlineData(0x0000, 0, 0)]
    [InlineData(0x0700, 7, 0)]
    [InlineData(0xff00, 255, 0)]
    [InlineData(0x0009, 0, 9)]
    [InlineData(0x0082, 0, 2)] // SIGINT with the core-dump bit
    public void Wait_status_decodes(int status, int code, int signal) =>
        Assert.Equal(new ProcessExit(code, signal), ProcessExit.FromWaitStatus(status));

    [Fact]
    public void Mount_points_are_read_in_order_and_unescaped()
    {
        const string mounts = "/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\ntmp /tmp/with\\040space tmpfs rw 0 0\n";
        Assert.Equal(["/", "/proc", "/tmp/with space"], MountTable.ParseMountPoints(mounts));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\\011b", "a\tb")]
    [InlineData("back\\134slash", "back\\slash")]
    [InlineData("trailing\\04", "trailing\\04")]
    public void Octal_escapes(string field, string expected) => Assert.Equal(expected, MountTable.Unescape(field));
}
