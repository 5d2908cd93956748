using Cleanroom.Cli.Hosting;
using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

public sealed class ServeDefaultsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.Where(v => v.Name == name).Select(v => v.Value).FirstOrDefault();

    [Fact]
    public void State_dir_for_root_is_var_lib() =>
        Assert.Equal("/var/lib/cleanroom", ServeDefaults.StateDir(Env(("XDG_STATE_HOME", "/x")), new LocalUser(0)));

    [Fact]
    public void State_dir_for_a_user_prefers_xdg_state_home() =>
        Assert.Equal("/home/a/.state/cleanroom", ServeDefaults.StateDir(Env(("XDG_STATE_HOME", "/home/a/.state"), ("HOME", "/home/a")), new LocalUser(1000)));

    [Fact]
    public void State_dir_for_a_user_falls_back_to_local_state_under_home() =>
        Assert.Equal("/home/a/.local/state/cleanroom", ServeDefaults.StateDir(Env(("HOME", "/home/a")), new LocalUser(1000)));

    [Fact]
    public void Listen_socket_matches_what_clients_resolve()
    {
        var env = Env(("XDG_RUNTIME_DIR", "/run/user/1000"));
        var user = new LocalUser(1000);
        Assert.Equal(EndpointResolver.Resolve(null, env, user).SocketPath, ServeDefaults.SocketPath(env, user));
    }

    [Fact]
    public void Assets_flag_beats_variable_and_directory_beside_binary()
    {
        using var layout = new BinaryLayout();
        Assert.Equal("/flag/assets", ServeDefaults.AssetsDir("/flag/assets", Env(("CLEANROOM_ASSETS", "/env/assets")), layout.Bin));
        Assert.Equal("/env/assets", ServeDefaults.AssetsDir(null, Env(("CLEANROOM_ASSETS", "/env/assets")), layout.Bin));
        Assert.Equal(layout.Assets, ServeDefaults.AssetsDir(null, Env(), layout.Bin));
    }

    [Fact]
    public void Assets_are_left_to_the_daemon_when_nothing_is_found()
    {
        using var layout = new BinaryLayout(withAssets: false);
        Assert.Null(ServeDefaults.AssetsDir(null, Env(), layout.Bin));
    }

    /// <summary>A temporary <c>bin/</c> (and maybe <c>assets/</c>) like <c>.build/</c> in a checkout.</summary>
    private sealed class BinaryLayout : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("cleanroom-layout-").FullName;

        public BinaryLayout(bool withAssets = true)
        {
            Directory.CreateDirectory(Bin);
            if (withAssets)
            {
                Directory.CreateDirectory(Assets);
            }
        }

        public string Bin => Path.Join(_root, "bin") + "/";

        public string Assets => Path.Join(_root, "assets");

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
