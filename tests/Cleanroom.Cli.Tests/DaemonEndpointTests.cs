using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

public sealed class DaemonEndpointTests
{
    [Theory]
    [InlineData("unix:///run/cleanroom/cleanroom.sock", "/run/cleanroom/cleanroom.sock")]
    [InlineData("UNIX:///tmp/x.sock", "/tmp/x.sock")]
    [InlineData("/tmp/x.sock", "/tmp/x.sock")]
    [InlineData("  /tmp/x.sock  ", "/tmp/x.sock")]
    public void Unix_forms(string text, string path)
    {
        var endpoint = DaemonEndpoint.Parse(text);
        Assert.Equal(path, endpoint.SocketPath);
        Assert.Null(endpoint.Address);
        Assert.Equal("unix://" + path, endpoint.Display);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7777", "http://127.0.0.1:7777")]
    [InlineData("http://daemon:7777/", "http://daemon:7777")]
    [InlineData("https://daemon.example:8443", "https://daemon.example:8443")]
    public void Http_forms(string text, string display)
    {
        var endpoint = DaemonEndpoint.Parse(text);
        Assert.Null(endpoint.SocketPath);
        Assert.Equal(display, endpoint.Display);
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative.sock")]
    [InlineData("unix://relative.sock")]
    [InlineData("tcp://host:1")]
    [InlineData("http://host:1/path")]
    [InlineData("localhost:7777")]
    public void Rejects_other_forms(string text) =>
        Assert.Throws<EndpointFormatException>(() => DaemonEndpoint.Parse(text));
}
