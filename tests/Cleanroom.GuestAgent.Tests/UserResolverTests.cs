using Cleanroom.GuestAgent.Exec;

namespace Cleanroom.GuestAgent.Tests;

public class UserResolverTests
{
    private const string Passwd = """
        root:x:0:0:root:/root:/bin/bash
        # a comment
        broken line
        bad:x:notanumber:1::/x:/bin/sh
        builder:x:1000:1001:CI builder:/home/builder:/bin/sh
        nohome:x:1002:1002:::/bin/sh
        """;

    private const string Groups = """
        root:x:0:
        docker:x:999:builder
        """;

    [Theory]
    [InlineData("")]
    [InlineData("root")]
    public void Root_needs_no_switch(string user)
    {
        var identity = UserResolver.Resolve(user, null, null, out _);
        Assert.Equal(UserIdentity.Root, identity);
        Assert.True(identity!.IsRoot);
    }

    [Fact]
    public void Numeric_uid_and_gid() =>
        Assert.Equal(new UserIdentity(123, 456, "/"), UserResolver.Resolve("123:456", Passwd, Groups, out _));

    [Fact]
    public void Numeric_uid_takes_the_accounts_primary_group_and_home() =>
        Assert.Equal(new UserIdentity(1000, 1001, "/home/builder"), UserResolver.Resolve("1000", Passwd, Groups, out _));

    [Fact]
    public void Numeric_uid_without_an_account_gets_group_0() =>
        Assert.Equal(new UserIdentity(4242, 0, "/"), UserResolver.Resolve("4242", Passwd, Groups, out _));

    [Fact]
    public void Name_is_looked_up() =>
        Assert.Equal(new UserIdentity(1000, 1001, "/home/builder"), UserResolver.Resolve("builder", Passwd, Groups, out _));

    [Fact]
    public void Name_with_a_group_name() =>
        Assert.Equal(new UserIdentity(1000, 999, "/home/builder"), UserResolver.Resolve("builder:docker", Passwd, Groups, out _));

    [Fact]
    public void Empty_home_falls_back_to_root_directory() =>
        Assert.Equal(new UserIdentity(1002, 1002, "/"), UserResolver.Resolve("nohome", Passwd, Groups, out _));

    [Fact]
    public void Uid_0_with_another_group_is_not_plain_root() =>
        Assert.False(UserResolver.Resolve("0:5", Passwd, Groups, out _)!.IsRoot);

    [Theory]
    [InlineData("nobody", "unknown user: nobody (not in /etc/passwd)")]
    [InlineData("bad", "unknown user: bad (not in /etc/passwd)")]
    [InlineData("builder:nogroup", "unknown group: nogroup (not in /etc/group)")]
    public void Unknown_names_are_errors(string user, string error)
    {
        Assert.Null(UserResolver.Resolve(user, Passwd, Groups, out var message));
        Assert.Equal(error, message);
    }

    [Fact]
    public void Missing_passwd_file_means_no_named_users()
    {
        Assert.Null(UserResolver.Resolve("builder", null, null, out _));
        Assert.Equal(new UserIdentity(7, 0, "/"), UserResolver.Resolve("7", null, null, out _));
    }
}
