using System.Net;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Credentials;
using Cleanroom.Gateway.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Gateway.Tests.Server;

public sealed class CredentialsFileTests : IDisposable
{
    private const string Secret = "tok-very-secret-123";
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void A_private_file_loads_tokens_and_basic_credentials_with_distinct_scopes()
    {
        var file = Write("""{"hosts": {"Git.Example.Test.": {"token": "SECRET"}, "other.test": {"username": "u", "password": "p"}}}""");
        var credentials = GatewayCredentials.Load(file);
        Assert.Equal(2, credentials.Count);
        var git = credentials.For("git.example.test")!;
        Assert.Equal("Bearer " + Secret, git.Authorization);
        Assert.Equal("Basic dTpw", credentials.For("other.test")!.Authorization);
        Assert.Matches("^cred-[0-9a-f]{16}$", git.Scope);
        Assert.NotEqual(git.Scope, credentials.For("other.test")!.Scope);
        Assert.DoesNotContain(Secret, git.ToString(), StringComparison.Ordinal);
        Assert.Null(credentials.For("example.test"));
    }

    [Fact]
    public void The_scope_changes_with_the_secret()
    {
        var one = GatewayCredentials.Parse("""{"hosts": {"a.test": {"token": "one"}}}"""u8, "x").For("a.test")!.Scope;
        var two = GatewayCredentials.Parse("""{"hosts": {"a.test": {"token": "two"}}}"""u8, "x").For("a.test")!.Scope;
        Assert.NotEqual(one, two);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.GroupWrite)]
    public void A_file_others_can_access_is_refused(UnixFileMode mode)
    {
        var file = Write("""{"hosts": {"a.test": {"token": "SECRET"}}}""");
        File.SetUnixFileMode(file, mode);
        var error = Assert.Throws<CredentialsFileException>(() => GatewayCredentials.Load(file));
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symlink_a_directory_a_missing_file_and_a_huge_file_are_refused()
    {
        var real = Write("""{"hosts": {}}""");
        var link = Path.Combine(_scratch.Path, "link.json");
        File.CreateSymbolicLink(link, real);
        Assert.Contains("symbolic link", Assert.Throws<CredentialsFileException>(() => GatewayCredentials.Load(link)).Message, StringComparison.Ordinal);
        Assert.Contains("directory", Assert.Throws<CredentialsFileException>(() => GatewayCredentials.Load(_scratch.Path)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<CredentialsFileException>(() => GatewayCredentials.Load(real + ".nope")).Message, StringComparison.Ordinal);
        var huge = Write("{\"hosts\": {}}" + new string(' ', (int)GatewayCredentials.MaxFileBytes));
        Assert.Contains("larger than", Assert.Throws<CredentialsFileException>(() => GatewayCredentials.Load(huge)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"hosts": {"a.test": {"token": "SECRET"}}, "extra": 1}""", "unknown key")]
    [InlineData("""{"hosts": {"a.test": {"token": "SECRET", "scope": "x"}}}""", "unknown key")]
    [InlineData("""{"hosts": {"a.test:443": {"token": "SECRET"}}}""", "bad host name")]
    [InlineData("""{"hosts": {"10.0.0.1": {"token": "SECRET"}}}""", "bad host name")]
    [InlineData("""{"hosts": {"a.test": {"token": "SECRET"}, "A.test": {"token": "x"}}}""", "twice")]
    [InlineData("""{"hosts": {"a.test": {"token": "SECRET", "username": "u", "password": "p"}}}""", "either")]
    [InlineData("""{"hosts": {"a.test": {"username": "u"}}}""", "either")]
    [InlineData("""{"hosts": {"a.test": {"token": "SECRET\r\nX-Evil: 1"}}}""", "control")]
    [InlineData("""{"hosts": {"a.test": {"username": "u:x", "password": "SECRET"}}}""", "contains ':'")]
    [InlineData("""{"hosts": {"a.test": {"token": SECRET}}}""", "not valid JSON")]
    [InlineData("""["a.test"]""", "JSON object")]
    public void Malformed_files_are_refused_without_quoting_secrets(string json, string expected)
    {
        var file = Write(json);
        var error = Assert.Throws<CredentialsFileException>(() => GatewayCredentials.Load(file));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gateway_refuses_to_start_with_an_unsafe_credentials_file()
    {
        var file = Write("""{"hosts": {"a.test": {"token": "t"}}}""");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(_scratch.Path, "cache"), MaxTotalBytes = 1L << 30 });
        var options = new GatewayOptions { ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)], CredentialsFile = file };
        await Assert.ThrowsAsync<CredentialsFileException>(() => GatewayServer.StartAsync(
            options, cache, new NoClients(), new RecordingAudit(), NullLoggerFactory.Instance, CancellationToken.None));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"auths": {"registry.test": {"auth": "not base64!"}}}""")]
    public async Task The_gateway_refuses_to_start_with_a_registry_auth_file_it_cannot_use(string content)
    {
        var file = Write(content);
        using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(_scratch.Path, "cache"), MaxTotalBytes = 1L << 30 });
        var options = new GatewayOptions { ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)], RegistryAuthFile = file };

        var error = await Assert.ThrowsAsync<CredentialsFileException>(() => GatewayServer.StartAsync(
            options, cache, new NoClients(), new RecordingAudit(), NullLoggerFactory.Instance, CancellationToken.None));
        Assert.Contains("registry auth file", error.Message, StringComparison.Ordinal);
    }

    private string Write(string content)
    {
        var file = Path.Combine(_scratch.Path, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, content.Replace("SECRET", Secret, StringComparison.Ordinal));
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return file;
    }

    private sealed class NoClients : IGatewayClients
    {
        public GatewayClient? Find(IPAddress source) => null;
    }
}
