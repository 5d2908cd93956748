using Cleanroom.GuestAgent.Exec;

namespace Cleanroom.GuestAgent.Tests;

public class EnvironmentDefaultsTests
{
    [Fact]
    public void Adds_path_and_home_when_absent() =>
        Assert.Equal(["A=1", "PATH=" + EnvironmentDefaults.DefaultPath, "HOME=/root"], EnvironmentDefaults.Apply(["A=1"], tty: false, "/root"));

    [Fact]
    public void Adds_term_only_for_a_terminal() =>
        Assert.Equal(["PATH=/x", "HOME=/h", "TERM=xterm-256color"], EnvironmentDefaults.Apply(["PATH=/x", "HOME=/h"], tty: true, "/root"));

    [Fact]
    public void Keeps_requested_entries_verbatim_even_when_empty() =>
        Assert.Equal(["PATH=", "HOME=", "TERM=dumb"], EnvironmentDefaults.Apply(["PATH=", "HOME=", "TERM=dumb"], tty: true, "/root"));

    [Fact]
    public void A_name_that_only_starts_like_a_default_does_not_count() =>
        Assert.Equal(["PATHX=1", "PATH=" + EnvironmentDefaults.DefaultPath, "HOME=/home/u"], EnvironmentDefaults.Apply(["PATHX=1"], tty: false, "/home/u"));

    [Fact]
    public void Get_returns_the_last_value_like_getenv_sees()
    {
        Assert.Equal("b=c", EnvironmentDefaults.Get(["K=a", "K=b=c"], "K"));
        Assert.Null(EnvironmentDefaults.Get(["KEY=1"], "K"));
    }
}
