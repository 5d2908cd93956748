using System.Text;
using Cleanroom.Daemon;
using Cleanroom.Daemon.Files;

namespace Cleanroom.Daemon.Tests;

/// <summary>The stat tool's answer comes from the guest: well-formed answers are read, everything else is a clear error.</summary>
public sealed class GuestStatParserTests
{
    [Fact]
    public void A_symlink_answer_is_read_and_its_text_escaped()
    {
        var stat = GuestStatParser.Parse(Encoding.UTF8.GetBytes(
            """{"path":"/w/l\u001b[31m","type":"symlink","mode":"0777","size":3,"mtime_unix_ms":1700000000123,"uid":0,"gid":0,"link_target":"../t"}"""));

        Assert.Equal("symlink", stat.Type);
        Assert.Equal(0x1FFu, stat.Mode);
        Assert.Equal("../t", stat.LinkTarget);
        Assert.DoesNotContain('\u001b', stat.Path);
        Assert.Equal(1700000000123, stat.ModifiedAt.ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"path":"/x","type":"door","mode":"0644","size":1,"mtime_unix_ms":0,"uid":0,"gid":0}""")]
    [InlineData("""{"path":"/x","type":"file","mode":"77777","size":1,"mtime_unix_ms":0,"uid":0,"gid":0}""")]
    [InlineData("""{"path":"/x","type":"file","mode":"0644","size":-1,"mtime_unix_ms":0,"uid":0,"gid":0}""")]
    [InlineData("""{"path":"/x","type":"file","mode":"0644","size":1,"mtime_unix_ms":0,"uid":-5,"gid":0}""")]
    [InlineData("""{"path":"/x","type":"file","mode":"0644"}""")]
    [InlineData("""[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]""")]
    public void A_malformed_answer_is_a_guest_protocol_error(string json)
    {
        var error = Assert.Throws<DaemonException>(() => GuestStatParser.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(ReasonCode.GuestProtocolError, error.Reason);
    }
}
