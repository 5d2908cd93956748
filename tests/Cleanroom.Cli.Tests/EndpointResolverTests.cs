using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

public sealed class EndpointResolverTests
{
    private static readonly LocalUser Root = new(0);
    private static readonly LocalUser Alice = new(1000);

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.Where(v => v.Name == name).Select(v => v.Value).FirstOrDefault();

    [Fact]
    public void Flag_wins_over_environment()
    {
        var endpoint = EndpointResolver.Resolve("unix:///flag.sock", Env(("CLEANROOM_HOST", "/env.sock"), ("XDG_RUNTIME_DIR", "/run/user/1000")), Alice);
        Assert.Equal("/flag.sock", endpoint.SocketPath);
    }

    [Fact]
    public void Host_variable_wins_over_socket_variable_and_default()
    {
        var endpoint = EndpointResolver.Resolve(null, Env(("CLEANROOM_HOST", "http://10.0.0.5:7777"), ("CLEANROOM_SOCKET", "/wrapper.sock"), ("XDG_RUNTIME_DIR", "/run/user/1000")), Alice);
        Assert.Null(endpoint.SocketPath);
        Assert.Equal("http://10.0.0.5:7777", endpoint.Display);
    }

    [Fact]
    public void Socket_variable_from_the_wrapper_wins_over_the_default()
    {
        var endpoint = EndpointResolver.Resolve(null, Env(("CLEANROOM_SOCKET", "/wrapper/cleanroom.sock"), ("XDG_RUNTIME_DIR", "/run/user/1000")), Alice);
        Assert.Equal("unix:///wrapper/cleanroom.sock", endpoint.Display);
    }

    [Fact]
    public void Blank_flag_and_variable_fall_through_to_the_default()
    {
        var endpoint = EndpointResolver.Resolve("  ", Env(("CLEANROOM_HOST", ""), ("XDG_RUNTIME_DIR", "/run/user/1000")), Alice);
        Assert.Equal("/run/user/1000/cleanroom/cleanroom.sock", endpoint.SocketPath);
    }

    [Fact]
    public void Default_uses_xdg_runtime_dir_even_for_root() =>
        Assert.Equal("/run/user/0/cleanroom/cleanroom.sock", EndpointResolver.DefaultSocketPath(Env(("XDG_RUNTIME_DIR", "/run/user/0")), Root));

    [Fact]
    public void Default_for_root_without_xdg_is_run_cleanroom() =>
        Assert.Equal("/run/cleanroom/cleanroom.sock", EndpointResolver.DefaultSocketPath(Env(), Root));

    [Fact]
    public void Default_for_a_user_without_xdg_is_per_uid_under_tmp() =>
        Assert.Equal("/tmp/cleanroom-1000/cleanroom.sock", EndpointResolver.DefaultSocketPath(Env(), Alice));

    [Theory]
    [InlineData("/var/tmp", "/var/tmp/cleanroom-1000/cleanroom.sock")]
    [InlineData("/var/tmp/", "/var/tmp/cleanroom-1000/cleanroom.sock")]
    public void Default_for_a_user_honours_tmpdir(string tmpdir, string expected) =>
        Assert.Equal(expected, EndpointResolver.DefaultSocketPath(Env(("TMPDIR", tmpdir)), Alice));

    [Fact]
    public void A_malformed_host_variable_is_an_error() =>
        Assert.Throws<EndpointFormatException>(() => EndpointResolver.Resolve(null, Env(("CLEANROOM_HOST", "localhost:80")), Alice));

    [Fact]
    public void Tls_flags_win_over_their_variables_each_on_its_own()
    {
        var tls = EndpointResolver.ResolveTls("/flag/ca.pem", null, " ", Env(("CLEANROOM_TLS_CA", "/env/ca.pem"), ("CLEANROOM_TLS_CERT", "/env/client.pem"), ("CLEANROOM_TLS_KEY", "/env/client.key")));
        Assert.Equal("/flag/ca.pem", tls.CaFile);
        Assert.Equal("/env/client.pem", tls.CertFile);
        Assert.Equal("/env/client.key", tls.KeyFile);
    }

    [Fact]
    public void Tls_files_are_made_absolute_and_blank_ones_are_unset()
    {
        var tls = EndpointResolver.ResolveTls("ca.pem", "", null, Env(("CLEANROOM_TLS_CERT", "")));
        Assert.Equal(Path.GetFullPath("ca.pem"), tls.CaFile);
        Assert.Null(tls.CertFile);
        Assert.Null(tls.KeyFile);
    }
}
